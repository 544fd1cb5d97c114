"""The lab activity type: a sandboxed code exercise graded by tests."""

from __future__ import annotations

from typing import Any

from flask import render_template, url_for
from markupsafe import Markup

from lms.errors import DomainError
from lms.models import User
from lms.plugins import ActivityType
from virtual_labs import services
from virtual_labs.authoring import apply_lab_content, main_file_data, save_lab_settings
from virtual_labs.forms import LabActivityForm
from virtual_labs.jobe import models as jobe_models  # noqa: F401  (its tables, for Alembic)
from virtual_labs.models import LIMIT_BOUNDS, Lab, LabSubmission, LabTest  # noqa: F401
from virtual_labs.views import bp, lab_context

EXPORT_KEYS = (
    "instructions",
    "language",
    "starter_files",
    "reference_files",
    "limits",
    "pass_mark",
    "tests",
)


class LabType(ActivityType):
    """The lab activity type: code written in the browser, graded by tests in the sandbox."""

    key = "lab"
    label = "Lab"
    xapi_activity_type = "http://adlnet.gov/expapi/activities/simulation"
    stylesheets = (("labs.static", "labs.css"),)
    model = Lab
    form = LabActivityForm
    blueprint = bp
    description = "A code exercise run in a sandbox and graded automatically by tests."
    icon = "code"
    completion_rules = ("none", "viewed", "submitted", "passed")
    graded = True
    develops_skills = True
    cluster_measure = "practical"

    # --- authoring -------------------------------------------------------------------------
    def form_data(self, activity: Lab) -> dict[str, Any]:
        """Values for the generic activity form (``LabActivityForm``: the main files)."""
        return {
            "instructions": activity.instructions or "",
            "language": activity.language or "python",
            **activity.limits_dict,
            "starter_code": next(iter((activity.starter_files or {}).values()), ""),
            "reference_code": next(iter((activity.reference_files or {}).values()), ""),
        }

    def settings_data(self, activity: Lab) -> dict[str, Any]:
        """Values for the lab's own settings page (``LabForm``: every file)."""

        def rows(files: dict[str, str]) -> list[dict[str, str]]:
            """Files as form rows, with one empty main file when there are none."""
            return [{"name": k, "content": v} for k, v in (files or {}).items()] or [
                {"name": services.default_file_name(activity.language or "python"), "content": ""}
            ]

        return {
            "instructions": activity.instructions or "",
            "language": activity.language or "python",
            **activity.limits_dict,
            "starter_files": rows(activity.starter_files),
            "reference_files": rows(activity.reference_files),
        }

    def apply_form(self, activity: Lab, data: dict[str, Any], author: User) -> None:
        """Store the settings; with tests, the reference solution must pass them all."""
        if "reference_code" in data:
            data = main_file_data(activity, data)
        save_lab_settings(activity, data, validate=True)

    def author_links(self, activity: Lab) -> list[tuple[str, str]]:
        """Links to the lab's settings, tests and learners' submissions."""
        return [
            ("Lab settings and files", url_for("labs.edit", lab_id=activity.id)),
            (f"Tests ({len(activity.tests)})", url_for("labs.tests", lab_id=activity.id)),
            ("Learners' submissions", url_for("labs.review", lab_id=activity.id)),
        ]

    # --- learning ----------------------------------------------------------------------------
    def render(self, activity: Lab, user: User) -> Markup:
        """Lab panel on the activity page: editor, run and submit, history."""
        return Markup(render_template("labs/_lab.html", **lab_context(activity, user)))

    def learner_summary(self, activity: Lab, user: User) -> dict[str, Any]:
        """Best score and number of graded submissions, for the learner's reports."""
        history = services.submission_history(activity, user)
        graded = [s for s in history if s.kind == "submit" and s.status == "done"]
        return {
            "best_score": max((s.score or 0.0 for s in graded), default=None),
            "submissions": len(graded),
            "runs": len(history) - len(graded),
            "last_verdict": graded[0].verdict if graded else None,
        }

    # --- archive -----------------------------------------------------------------------------
    def export_content(self, activity: Lab, files: dict[str, bytes]) -> dict[str, Any]:
        """Lab instructions, language, files, limits and tests for the course archive."""
        return {
            "instructions": activity.instructions or "",
            "language": activity.language,
            "starter_files": dict(activity.starter_files or {}),
            "reference_files": dict(activity.reference_files or {}),
            "limits": activity.limits_dict,
            "pass_mark": activity.pass_mark,
            "tests": [t.to_content() for t in activity.tests],
        }

    def import_content(
        self, activity: Lab, content: dict[str, Any], files: dict[str, bytes]
    ) -> None:
        """Fill a new lab from the archive; ``ValueError`` naming what is wrong."""
        try:
            apply_lab_content(activity, content)
        except DomainError as exc:
            raise ValueError(exc.message) from exc
