"""The forum activity type: discussions or Q&A per course module, with moderation and mail."""

from __future__ import annotations

from typing import Any

from flask import render_template, url_for
from markupsafe import Markup

from courses.forum import mail, services
from courses.forum.forms import ForumForm, ThreadForm
from courses.forum.models import Forum, ForumKind
from courses.forum.views import bp
from lms.domain.models import Activity
from lms.domain.services import mark_course_edited
from lms.models import User
from lms.plugins import ActivityType

__all__ = ["Forum", "ForumType"]

MAX_INTRO = 20_000


def _count(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise ValueError(f"forum {name} must be a whole number from 1 to 100")
    return value


def clean_content(content: dict[str, Any]) -> dict[str, Any]:
    """Validated forum settings from the archive or the form; ``ValueError`` when wrong."""
    if not isinstance(content, dict):
        raise ValueError("forum content must be an object")
    kind = content.get("kind", ForumKind.GENERAL)
    if kind not in set(ForumKind):
        raise ValueError("forum kind must be general or qa")
    intro = content.get("intro", "")
    if not isinstance(intro, str) or len(intro) > MAX_INTRO:
        raise ValueError(f"forum intro must be Markdown under {MAX_INTRO:,} characters")
    return {
        "kind": str(kind),
        "intro": intro.replace("\r\n", "\n"),
        "completion_posts": _count(content.get("completion_posts"), "completion_posts"),
        "completion_replies": _count(content.get("completion_replies"), "completion_replies"),
    }


class ForumType(ActivityType):
    """The forum activity type (Moodle's mod_forum)."""

    key = "forum"
    label = "Forum"
    xapi_activity_type = "http://id.tincanapi.com/activitytype/discussion"
    model = Forum
    form = ForumForm
    blueprint = bp
    description = (
        "Discussions or questions and answers among the course's learners and trainers, with "
        "subscriptions by mail and moderation."
    )
    icon = "forum"
    completion_rules = ("none", "viewed", "submitted")
    rule_labels = {"submitted": "The learner posts as set below (discussions and/or replies)"}
    graded = False

    def init_app(self, app) -> None:
        """Register the blueprint and ``flask forum digest``."""
        from courses.forum.cli import forum_cli

        super().init_app(app)
        if "forum" not in app.cli.commands:
            app.cli.add_command(forum_cli)

    def new_activity(self, **common: Any) -> Activity:
        """A new, unsaved general discussion forum."""
        return Forum(kind=ForumKind.GENERAL, intro="", **common)

    def form_data(self, activity: Forum) -> dict[str, Any]:
        """The forum's settings as the authoring form shows them (also the archive format)."""
        return {
            "kind": activity.kind,
            "intro": activity.intro or "",
            "completion_posts": activity.completion_posts,
            "completion_replies": activity.completion_replies,
        }

    def apply_form(self, activity: Forum, data: dict[str, Any], author: User) -> None:
        """Store the cleaned settings; a change to a saved forum marks the course edited."""
        clean = clean_content(data)
        changed = any(getattr(activity, k) != v for k, v in clean.items())
        for key, value in clean.items():
            setattr(activity, key, value)
        if changed and activity.id is not None and activity.course is not None:
            mark_course_edited(activity.course)

    def author_links(self, activity: Forum) -> list[tuple[str, str]]:
        """Links for the authoring page: the reported posts (once saved)."""
        if activity.id is None:
            return []
        return [("Reported posts", url_for("forum.reports", forum_id=activity.id))]

    def render(self, activity: Forum, user: User) -> Markup:
        """The forum's part of the activity page: its threads, subscription and moderation."""
        rows = services.thread_rows(activity, user.id) if services.may_view(user, activity) else []
        sub = mail.subscription(activity, user.id)
        return Markup(
            render_template(
                "forum/_activity.html",
                forum=activity,
                rows=rows,
                subscription=sub,
                moderator=services.is_moderator(user, activity),
                can_post=services.may_view(user, activity),
                form=ThreadForm(),
                reports=len(services.open_reports(activity))
                if services.is_moderator(user, activity)
                else 0,
            )
        )

    def export_content(self, activity: Forum, files: dict[str, bytes]) -> dict[str, Any]:
        """The forum's settings for the course archive."""
        return self.form_data(activity)

    def import_content(
        self, activity: Forum, content: dict[str, Any], files: dict[str, bytes]
    ) -> None:
        """Store settings from a course archive, cleaned as the authoring form cleans them."""
        for key, value in clean_content(content).items():
            setattr(activity, key, value)
