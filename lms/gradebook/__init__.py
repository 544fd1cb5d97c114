"""The gradebook (Moodle's grader report): learners × graded activities with categories,
weights, overrides, the course total and exports; and each learner's own grades."""

from __future__ import annotations

from flask import Flask

from lms.gradebook.queries import course_totals
from lms.gradebook.views import bp


def init_app(app: Flask) -> None:
    """Register the pages and make the gradebook's total the course grade for completion."""
    if bp.name not in app.blueprints:
        app.register_blueprint(bp)
    app.extensions["lms.course_totals"] = course_totals
