"""The "checklist" activity: a list of items the learner ticks off (a third-party plugin)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort
from markupsafe import Markup, escape
from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms.domain.models import Activity
from lms.extensions import db
from lms.plugins import ActivityType


class Checklist(Activity):
    __tablename__ = "test_checklists"

    id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    items: Mapped[str] = mapped_column(Text, default="")  # one item per line

    __mapper_args__ = {"polymorphic_identity": "checklist"}

    @property
    def item_list(self) -> list[str]:
        return [line.strip() for line in (self.items or "").splitlines() if line.strip()]


bp = Blueprint("checklist", __name__, url_prefix="/x-checklist")


@bp.route("/<int:activity_id>")
def show(activity_id: int):
    activity = db.session.get(Checklist, activity_id)
    if activity is None:
        abort(404)
    return ChecklistType().render(activity, None)


class ChecklistType(ActivityType):
    key = "checklist"
    label = "Checklist"
    model = Checklist
    blueprint = bp
    description = "Items the learner ticks off, such as a safety walk-through."
    completion_rules = ("none", "viewed")

    def apply_form(self, activity: Checklist, data: dict[str, Any], author) -> None:
        activity.items = data.get("items", "")

    def render(self, activity: Checklist, user) -> Markup:
        items = "".join(f"<li>{escape(item)}</li>" for item in activity.item_list)
        return Markup(f'<ul class="checklist">{items}</ul>')

    def export_content(self, activity: Checklist, files: dict[str, bytes]) -> dict[str, Any]:
        return {"items": activity.item_list}

    def import_content(self, activity: Checklist, content: dict[str, Any], files) -> None:
        items = content.get("items")
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ValueError("checklist items must be a list of strings")
        activity.items = "\n".join(items)


class DuplicateChecklistType(ChecklistType):
    """Another distribution claiming the same key: the registry must refuse it."""
