"""Learner and trainer pages: My learning, notifications, course reports.

The routes live in several modules that share :data:`lms.progress.blueprint.bp`; this module
wires them, the navigation, the dashboard panels, the CLI commands and the demo seed step.
"""

from __future__ import annotations

from flask import Flask, render_template
from flask_login import current_user

from lms.auth.sessions import register_session_figure
from lms.main import register_dashboard_panel
from lms.models import Role
from lms.progress import autorecompute, cli, commands, learner_views, queries, reports
from lms.progress.blueprint import bp
from lms.progress.learning import learner_overview
from lms.progress.seed import seed_progress
from lms.templating import register_nav
from lms.timeutil import utcnow


def _is_learner(user) -> bool:
    return user.has_role(Role.LEARNER)


def unread_notifications(user) -> int:
    """Number of unread notifications for the navigation badge."""
    if not getattr(user, "is_authenticated", False):
        return 0
    figures = getattr(user, "session_figures", None) or {}
    if "unread_notifications" in figures:  # loaded with the session user: no query
        return figures["unread_notifications"] or 0
    return queries.unread_notification_count(user.id)


def _learning_panel(user):
    if not _is_learner(user):
        return None
    now = utcnow()
    return render_template(
        "progress/_learning_panel.html", overview=learner_overview(user.id, now), now=now
    )


def _reports_panel(user):
    """Trainers: the courses they author, with learners and completions, linked to reports."""
    if not user.has_role(Role.TRAINER):
        return None
    rows = queries.authored_course_figures(user.organization_ids(Role.TRAINER))
    if not rows:
        return None
    return render_template("progress/_reports_panel.html", rows=rows)


def init_app(app: Flask) -> None:
    """Register the progress pages, navigation, dashboard panels, commands and seed step."""
    # Importing these registers their routes on ``bp`` and the rule-change listener.
    assert autorecompute and learner_views and reports
    app.register_blueprint(bp)
    register_nav(app, "My learning", "progress.my_learning", _is_learner, order=10)
    register_dashboard_panel(app, "My learning", _learning_panel, order=10)
    register_dashboard_panel(app, "Course reports", _reports_panel, order=50)
    register_session_figure(app, "unread_notifications", queries.unread_notification_subquery)
    cli.init_app(app)
    commands.init_app(app)
    app.extensions.setdefault("lms.seed_steps", []).append(
        (90, "programs and progress", seed_progress)
    )

    @app.context_processor
    def _notifications():
        return {"unread_notifications": lambda: unread_notifications(current_user)}
