"""Skills: frameworks of skills with proficiency scales, outcomes of courses and activities,
import/export (ESCO and Moodle CSV), search and suggestion."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the skills pages (frameworks, outcomes, profiles) and the gap pages."""
    from lms.skills import gap_views, holder_hooks, views  # the views import every model

    holder_hooks.listen()
    views.init_app(app)
    gap_views.init_app(app)
