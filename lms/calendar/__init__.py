"""The calendar: due dates of a learner's and a trainer's courses and programs, month and agenda
views, and a private iCalendar feed (a revocable per-user secret URL)."""

from __future__ import annotations

from flask import Flask

from lms.calendar.views import bp
from lms.templating import register_nav


def init_app(app: Flask) -> None:
    """Register the pages and the top-bar link."""
    if bp.name not in app.blueprints:
        app.register_blueprint(bp)
    register_nav(app, "Calendar", "calendar.index", lambda u: True, order=25, prefix="/calendar")
