"""Plugs the labs (CLI, executors, seed) into the core through ``lms.components``."""

from __future__ import annotations

import os

import click
from flask import Flask, current_app, render_template
from flask.cli import with_appcontext

from lms.extensions import csrf
from lms.main import register_dashboard_panel
from lms.permissions import can
from lms.plugins import Component
from lms.templating import mark_nav_current, register_site_admin_tab
from virtual_labs import views as lab_views
from virtual_labs.cli import labs_cli
from virtual_labs.executors import run_worker, start_pool_on_first_request
from virtual_labs.jobe import runner  # noqa: F401  (registers the Celery task)
from virtual_labs.jobe.admin_views import bp as jobe_admin_bp
from virtual_labs.jobe.views import DEFAULTS as JOBE_DEFAULTS
from virtual_labs.jobe.views import bp as jobe_bp
from virtual_labs.services import DEFAULTS
from virtual_labs.tasks import celery_init_app, recover_abandoned_work, requeue_pending

EXTRA_DEFAULTS = {
    "LAB_CELERY_QUEUE": "labs",
    "LAB_CELERY_VISIBILITY_TIMEOUT": 300,  # seconds before a dead worker's task is redelivered
    "LAB_POLL_SECONDS": 1.0,  # how often idle local workers look for work queued elsewhere
}


@click.command("worker")
@click.option(
    "--workers", type=int, default=None, help="Threads (default: LAB_WORKERS, one per core)."
)
@with_appcontext
def worker_command(workers: int | None) -> None:
    """Grade queued lab submissions in this process (the local executor's dedicated worker)."""
    run_worker(current_app._get_current_object(), workers, echo=click.echo)


@click.command("requeue")
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Celery: send every queued submission, not only those the broker holds no message for.",
)
@with_appcontext
def requeue_command(everything: bool) -> None:
    """Requeue stale runs; with LAB_EXECUTOR=celery, send orphaned submissions to Celery."""
    app = current_app._get_current_object()
    if app.config.get("LAB_EXECUTOR") == "celery":
        sent = requeue_pending(app, everything=everything)
        click.echo(f"Sent {sent} queued submissions to Celery.")
        return
    requeued, failed = recover_abandoned_work()
    click.echo(f"Requeued {requeued} stale submissions; {failed} failed after too many attempts.")


# The lab's authoring pages: the top bar shows them under "Authoring".
AUTHORING_VIEWS = (
    "edit",
    "tests",
    "new_test",
    "edit_test",
    "delete_test",
    "move_test",
    "validate",
    "review",
    "review_csv",
)


def _from_env(key: str, default):
    """``key`` from the environment, typed like ``default`` (a bad number keeps the default)."""
    raw = os.environ.get(key)
    if raw in (None, ""):
        return default
    if isinstance(default, str):
        return raw
    try:
        return type(default)(float(raw))
    except ValueError:
        return default


def sandbox_panel(user) -> str | None:
    """For site admins only, and only when labs are disabled: what is wrong and how to fix it."""
    if not can(user, "site.admin"):
        return None
    ok, message = lab_views.sandbox_state()  # via the module: read at call time
    if ok:
        return None
    return render_template("labs/_admin_panel.html", message=message)


class LabsComponent(Component):
    """The virtual labs component: lab activity, sandbox, Jobe API and workers."""

    name = "virtual labs"
    seed_order = 20

    def init_app(self, app: Flask) -> None:
        """Set the lab settings and register the labs and Jobe blueprints, CLI, panel and executor."""
        # Precedence: the app's config (tests) > the environment (workers, deployments) > defaults.
        for key, value in {**DEFAULTS, **EXTRA_DEFAULTS}.items():
            app.config.setdefault(key, _from_env(key, value))

        for key, value in JOBE_DEFAULTS.items():
            app.config.setdefault(key, _from_env(key, value))
        self._register_jobe(app)

        labs_cli.add_command(worker_command)
        labs_cli.add_command(requeue_command)
        app.cli.add_command(labs_cli)

        register_dashboard_panel(app, "labs-sandbox", sandbox_panel, order=5)

        mark_nav_current(app, "Authoring", {f"labs.{name}" for name in AUTHORING_VIEWS})
        if app.config.get("LAB_EXECUTOR") == "celery":
            celery_init_app(app)

        # Checked per request (cheap) so tests may switch LAB_EXECUTOR on a built app.
        app.before_request(lambda: start_pool_on_first_request(app))

    def _register_jobe(self, app: Flask) -> None:
        """The Jobe-compatible runner API (key auth, no cookies: CSRF-exempt) and its keys page."""
        app.register_blueprint(jobe_bp)
        csrf.exempt(jobe_bp)
        app.register_blueprint(jobe_admin_bp)
        register_site_admin_tab(app, "jobe_admin.index", "Jobe API keys")

    def seed_demo(self) -> None:
        """Create the demo labs."""
        # imported here: the demo content is only needed by `lms seed-demo`.
        from virtual_labs.seed import seed_labs

        seed_labs()
