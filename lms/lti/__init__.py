"""LTI 1.3 tool (LTI Advantage): EduCluster's courses, labs and quizzes inside Moodle, Canvas
and other platforms. Built on PyLTI1p3 (the maintained ``pylti1p3next`` fork): the library does
OIDC and every JWT check; this package stores registrations, links people, maps roles, and
keeps the grade outbox and the roster. It reaches labs and quizzes only through the activity
registry, never by importing a plugin."""

from __future__ import annotations

import click
from flask import Flask, render_template
from flask.cli import AppGroup
from markupsafe import Markup
from sqlalchemy import select

import lms.lti.models  # noqa: F401  (tables)
from lms.extensions import csrf, db
from lms.lti import grades
from lms.lti.admin_views import bp as admin_bp
from lms.lti.grades import flush_scores
from lms.lti.keys import rotate_key
from lms.lti.models import LtiContext
from lms.lti.roster import instructor_contexts, sync_roster
from lms.lti.views import bp, dynamic_registration, launch, login
from lms.main import register_dashboard_panel
from lms.permissions import can
from lms.templating import register_site_admin_tab

lti_cli = AppGroup("lti", help="LTI 1.3: grade passback, rosters and the tool's keys.")


@lti_cli.command("flush-scores")
@click.option("--now", "ignore_backoff", is_flag=True, help="Retry postponed scores now.")
def flush_scores_command(ignore_backoff: bool) -> None:
    """Post queued scores to the platforms' gradebooks (safe to run from cron)."""
    result = flush_scores(ignore_backoff=ignore_backoff)
    click.echo(f"Sent {result.sent}, failed {result.failed}, pending {result.pending}.")
    if result.error:
        click.echo(f"Last error: {result.error}", err=True)
        raise SystemExit(1)


@lti_cli.command("rotate-key")
def rotate_key_command() -> None:
    """Sign with a new key; the old one stays published for a week (launches keep working)."""
    key = rotate_key()
    db.session.commit()
    click.echo(f"Now signing with key {key.kid}.")


@lti_cli.command("sync-rosters")
def sync_rosters_command() -> None:
    """Sync every platform course's roster (NRPS)."""
    for context in db.session.scalars(select(LtiContext).where(LtiContext.memberships_url != "")):
        try:
            count = sync_roster(context)
            db.session.commit()
            click.echo(f"{context.title or context.context_id}: {count} people.")
        except Exception as exc:  # one platform down must not stop the others
            db.session.rollback()
            click.echo(f"{context.title or context.context_id}: failed ({exc}).", err=True)


def init_app(app: Flask) -> None:
    """Blueprints (launch endpoints are CSRF-exempt: the platform signs them), grade passback
    signals, CLI, the admin tab and the instructor's dashboard panel."""
    app.register_blueprint(bp)
    app.register_blueprint(admin_bp)
    for view in (login, launch, dynamic_registration):
        csrf.exempt(view)
    grades.init_app(app)
    app.cli.add_command(lti_cli)
    register_site_admin_tab(app, "lti_admin.index", "LTI platforms")
    register_dashboard_panel(app, "lti", _panel, order=40)


def _panel(user):
    """Instructors launched from a platform: their platform courses; org admins: the setup."""
    contexts = instructor_contexts(user)
    manages = can(user, "org.manage")
    if not contexts and not manages:
        return None
    return Markup(render_template("lti/_panel.html", contexts=contexts, manages=manages))
