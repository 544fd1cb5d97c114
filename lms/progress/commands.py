"""``flask --app app progress recompute|remind`` and ``flask --app app lms seed-scale``."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from lms.cli import lms_cli
from lms.domain.models import Course
from lms.errors import DomainError
from lms.extensions import db
from lms.progress.cli import progress_cli
from lms.progress.recompute import recompute_course
from lms.progress.reminders import expire_and_recertify, send_reminders


@progress_cli.command("recompute")
@click.option("--course", "slug", help="Only this course (its slug); default: every course.")
def recompute_command(slug: str | None) -> None:
    """Re-apply completion rules to every learner (after rules changed), in one transaction."""
    stmt = select(Course).order_by(Course.id)
    if slug:
        stmt = stmt.where(Course.slug == slug)
    courses = db.session.scalars(stmt).all()
    if slug and not courses:
        raise click.ClickException(f"No course with the slug {slug!r}.")
    for course in courses:
        result = recompute_course(course)
        click.echo(
            f"{course.slug}: {result['learners']} learners, {result['courses_changed']} course "
            f"states changed, {result['completed']} newly completed, {result['failed']} failed."
        )
    db.session.commit()


@progress_cli.command("remind")
def remind_command() -> None:
    """Send due-soon and overdue reminders, expire and re-assign programs (idempotent; for cron)."""
    expired = expire_and_recertify()
    sent = send_reminders()
    db.session.commit()
    click.echo(f"{sent} reminder(s) sent; {expired} expired assignment(s) re-assigned.")


@lms_cli.command("seed-scale")
@click.option("--learners", default=1000, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--seed", "random_seed", default=2026, show_default=True, help="Random seed.")
def seed_scale_command(learners: int, random_seed: int) -> None:
    """Create a large synthetic cluster (bulk inserts) for load tests and the benchmark."""
    # imported here: the synthetic-cluster generators are only needed by this command.
    from lms.progress.scale import seed_scale, seed_scale_steps

    try:
        stats = seed_scale(learners, random_seed)
        # Features add to it (skills: profiles and demand) through app.extensions["lms.scale_steps"].
        stats.update(seed_scale_steps(random_seed))
    except DomainError as exc:  # e.g. run twice: a message, not a traceback, and nothing written
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(", ".join(f"{v:,} {k}" for k, v in stats.items()))


def init_app(app: Flask) -> None:
    """The commands are attached to the shared groups at import time; nothing else to do."""
