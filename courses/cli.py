"""``flask --app app courses export|import``."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from courses.archive import export_course, import_course
from lms.domain.models import Course
from lms.errors import DomainError
from lms.extensions import db
from lms.models import Organization

courses_cli = AppGroup("courses", help="Course archives: export and import.")


@courses_cli.command("export")
@click.argument("slug")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False))
def export_command(slug: str, output: str) -> None:
    """Export the course SLUG to a .zip archive."""
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        raise click.ClickException(f"No course with the slug “{slug}”.")
    try:
        data = export_course(course)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    with open(output, "wb") as fh:
        fh.write(data)
    click.echo(f"Exported “{course.title}” to {output} ({len(data):,} bytes).")


@courses_cli.command("import")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@click.option("--org", "org_slug", help="Importing partner organization (slug).")
def import_command(archive: str, org_slug: str | None) -> None:
    """Import ARCHIVE as a new draft course."""
    org = None
    if org_slug:
        org = db.session.scalar(select(Organization).where(Organization.slug == org_slug))
        if org is None:
            raise click.ClickException(f"No organization with the slug “{org_slug}”.")
    with open(archive, "rb") as fh:
        data = fh.read()
    try:
        course = import_course(data, org, None)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"Imported “{course.title}” as a draft course with the slug {course.slug}.")
