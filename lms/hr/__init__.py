"""HR: the dashboard of an organization's programs, the employee table and exports, transcripts,
and the pages where HR assigns upskilling and retraining programs."""

from __future__ import annotations

from flask import Flask, render_template

from lms.hr import program_views, views
from lms.hr.blueprint import bp
from lms.hr.queries import org_figures
from lms.main import register_dashboard_panel
from lms.permissions import can
from lms.templating import register_nav
from lms.timeutil import utcnow


def _is_hr(user) -> bool:
    return can(user, "org.view_progress")


def _hr_panel(user):
    """Dashboard panel: the first organizations HR looks after, with their figures."""
    if not user.memberships or not can(user, "org.view_progress"):
        return None  # site admins without a membership see the cluster panel instead
    now = utcnow()
    orgs = views.hr_organizations(user)[:3]
    return render_template(
        "hr/_hr_panel.html", rows=[(org, org_figures(org.id, now)) for org in orgs]
    )


def init_app(app: Flask) -> None:
    """Register the HR pages, the HR menu entry and the dashboard panel."""
    assert program_views  # importing it adds its routes to ``bp``
    app.register_blueprint(bp)
    register_nav(app, "HR", "hr.index", _is_hr, order=60, prefix="/hr")
    register_dashboard_panel(app, "HR overview", _hr_panel, order=20)
