"""Progress: completion tracking (rules, recompute, overrides), programs and their reminders,
My learning and the trainers' course reports."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the progress pages, navigation, panels, CLI group and demo seed step."""
    from lms.progress import views  # the views import this package's models and services

    views.init_app(app)
