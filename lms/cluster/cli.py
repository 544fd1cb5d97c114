"""``flask --app app cluster ...``: indicators, snapshots (and the commands other modules add)."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from lms.cluster.alerts import evaluate_signals
from lms.cluster.cohort import store_cohort_base
from lms.cluster.funding import create_checkpoint
from lms.cluster.indicators import Viewer, indicator_report
from lms.cluster.periods import month_of, parse_period
from lms.cluster.snapshots import take_snapshot
from lms.cluster.surveys import send_follow_ups
from lms.errors import DomainError
from lms.extensions import db
from lms.models import Organization
from lms.timeutil import utcnow

cluster_cli = AppGroup("cluster", help="Cluster monitoring: indicators, snapshots, signals.")

#: The operator running the CLI sees what the cluster admin sees.
OPERATOR = Viewer(org_ids=frozenset(), all_partners=True)


def fail(message: str) -> None:
    """Print ``message`` to stderr and exit 2 (bad input), nothing written."""
    db.session.rollback()
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


@cluster_cli.command("indicators")
@click.option("--period", "period_text", default=None, help="2026-11, 2026-Q4 or 2026.")
@click.option("--org", "org_slug", default=None, help="Only this partner (its slug).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the API's document).")
def indicators_command(period_text: str | None, org_slug: str | None, as_json: bool) -> None:
    """Print the indicators of a period (default: the current month)."""
    now = utcnow()
    try:
        period = parse_period(period_text) if period_text else month_of(now)
    except DomainError as exc:
        fail(exc.message)
    org = None
    if org_slug is not None:
        org = db.session.scalar(select(Organization).where(Organization.slug == org_slug))
        if org is None:
            fail(f"No partner organization with the slug {org_slug!r}.")
    report = indicator_report(period, OPERATOR, now, org=org)
    if as_json:
        click.echo(json.dumps(report, indent=2, sort_keys=True))
        return
    source = "live" if report["period"]["live"] else "snapshot"
    click.echo(f"Indicators for {period.name} ({source})")
    names = [p["organization"]["slug"] for p in report["partners"]]
    click.echo(f"{'indicator':34} {'cluster':>14} " + " ".join(f"{n[:14]:>14}" for n in names))
    for meta in report["indicators"]:
        key = meta["key"]
        cells = [report["cluster"][key]["display"]] + [
            p["indicators"][key]["display"] for p in report["partners"]
        ]
        click.echo(f"{meta['label'][:34]:34} " + " ".join(f"{c[:14]:>14}" for c in cells))


@cluster_cli.command("snapshot")
@click.option("--month", default=None, help="A past month (default: the previous month).")
def snapshot_command(month: str | None) -> None:
    """Store the previous month's figures once, and the current month's cohort base (both
    idempotent, for cron)."""
    now = utcnow()
    try:
        period, written = take_snapshot(now, month)
    except DomainError as exc:
        fail(exc.message)
    current = month_of(now)
    based = store_cohort_base(current, now)
    db.session.commit()
    if written:
        click.echo(f"Snapshot of {period.name}: {written} rows stored.")
    else:
        click.echo(f"Snapshot of {period.name} already stored; nothing to do.")
    if based:
        click.echo(f"Cohort base of {current.name}: {based} rows stored.")


@cluster_cli.command("signals")
def signals_command() -> None:
    """Evaluate the rules: raise, refresh and resolve signals (idempotent, for cron)."""
    result = evaluate_signals(utcnow())
    db.session.commit()
    click.echo(
        f"Signals: {result.raised} raised, {result.updated} still open, {result.resolved} resolved."
    )


@cluster_cli.command("checkpoint")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Also save the signed checkpoint to this file.")  # fmt: skip
def checkpoint_command(output: str | None) -> None:
    """Publish today's signed checkpoint of the ledger head (once a day, for cron)."""
    row, created = create_checkpoint(utcnow())
    db.session.commit()
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(row.document)
    state = "published" if created else "already published"
    click.echo(f"Checkpoint of {row.day} {state}: entry {row.seq}, head {row.head_hash[:16]}...")


@cluster_cli.command("surveys")
def surveys_command() -> None:
    """Send the follow-up surveys that are due (each completion once, for cron)."""
    sent = send_follow_ups(utcnow())
    db.session.commit()
    click.echo(f"Follow-up surveys sent: {sent}.")
