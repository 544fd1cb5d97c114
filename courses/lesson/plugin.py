"""The lesson activity type: Markdown content with revisions."""

from __future__ import annotations

from typing import Any

from flask import render_template, url_for
from markupsafe import Markup

from courses.lesson.forms import LessonForm
from courses.lesson.models import Lesson, LessonRevision
from courses.lesson.services import MAX_BODY, save_lesson_body
from courses.lesson.views import bp
from lms.domain.models import Activity
from lms.models import User
from lms.plugins import ActivityType

__all__ = ["Lesson", "LessonRevision", "LessonType"]


class LessonType(ActivityType):
    """The lesson activity type: a Markdown page with revision history."""

    key = "lesson"
    label = "Lesson"
    xapi_activity_type = "http://adlnet.gov/expapi/activities/lesson"
    model = Lesson
    form = LessonForm
    blueprint = bp
    description = "A page of text with tables, highlighted code and images, written in Markdown."
    icon = "lesson"
    completion_rules = ("none", "viewed")
    graded = False

    # --- authoring ---------------------------------------------------------------------------
    def form_data(self, activity: Activity) -> dict[str, Any]:
        """Lesson text for the activity form."""
        return {"body": getattr(activity, "body", "") or ""}

    def prepare_form(
        self, form: Any, course: Any, activity: Activity | None, module: Any = None
    ) -> None:
        """Point the editor's Preview at the server's renderer (the one sanitizer)."""
        form.body.render_kw = {
            **(form.body.render_kw or {}),
            "data-preview-url": url_for("lesson.preview", course_id=course.id),
        }

    def apply_form(self, activity: Activity, data: dict[str, Any], author: User) -> None:
        """Save the body; every change is kept as a revision (an unchanged body adds none)."""
        save_lesson_body(activity, data.get("body") or "", author)

    def author_links(self, activity: Activity) -> list[tuple[str, str]]:
        """Link to the lesson's revision history for authors."""
        if activity.id is None:
            return []
        return [("Revision history", url_for("lesson.revisions", activity_id=activity.id))]

    # --- learning ----------------------------------------------------------------------------
    def render(self, activity: Activity, user: User) -> Markup:
        """Lesson text rendered on the activity page."""
        return Markup(render_template("lesson/_body.html", lesson=activity))

    # --- archive -----------------------------------------------------------------------------
    def export_content(self, activity: Activity, files: dict[str, bytes]) -> dict[str, Any]:
        """Lesson text for the course archive."""
        return {"body": activity.body or ""}

    def import_content(
        self, activity: Activity, content: dict[str, Any], files: dict[str, bytes]
    ) -> None:
        """Lesson text from a course archive, checked."""
        if not isinstance(content, dict):
            raise ValueError("lesson content must be an object with a 'body'")
        body = content.get("body", "")
        if not isinstance(body, str):
            raise ValueError("lesson 'body' must be Markdown text")
        if len(body) > MAX_BODY:
            raise ValueError(f"lesson body is longer than {MAX_BODY:,} characters")
        save_lesson_body(activity, body, None, mark_edited=False)
