"""The start page, the role-aware dashboard and the health check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Flask, current_app, jsonify, redirect, render_template, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import text

from lms.extensions import db
from lms.pagecache import cached_page

bp = Blueprint("main", __name__)


@dataclass(frozen=True)
class DashboardPanel:
    """A section of the dashboard; ``render(user)`` returns HTML or None when not for this user."""

    name: str
    render: Callable[[object], Markup | str | None]
    order: int = 50


def register_dashboard_panel(
    app: Flask, name: str, render: Callable[[object], Markup | str | None], order: int = 50
) -> None:
    """Components add their panels (My learning, My courses, HR overview) through this."""
    app.extensions.setdefault("lms.dashboard_panels", []).append(
        DashboardPanel(name, render, order)
    )


@bp.route("/")
def index():
    """Public landing page; signed-in users go to their dashboard."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    return render_template("main/landing.html")


@bp.route("/favicon.ico")
def favicon():
    """Browsers and feed readers ask for /favicon.ico whatever the page links: the site's icon
    (an SVG, which every current browser shows), instead of a 404 in every log."""
    return current_app.send_static_file("favicon.svg")


@bp.route("/dashboard")
@login_required
@cached_page
def dashboard():
    """Signed-in user's dashboard with the panels of every feature they may see."""
    panels = []
    for panel in sorted(
        current_app.extensions.get("lms.dashboard_panels", []), key=lambda p: p.order
    ):
        html = panel.render(current_user)
        if html:
            panels.append(Markup(html))
    return render_template("main/dashboard.html", panels=panels)


@bp.route("/healthz")
def healthz():
    """Health check for monitoring: database reachability as JSON."""
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # report, never raise: this is what monitoring reads
        current_app.logger.warning("health check: database unavailable: %s", exc)
        db.session.rollback()
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return jsonify(status="ok" if status == 200 else "degraded", database=database), status


def init_app(app: Flask) -> None:
    """Register the home, dashboard and health pages."""
    app.register_blueprint(bp)
