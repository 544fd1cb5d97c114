"""The lesson activity type (skeleton: filled in by its feature work)."""

from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from lms.domain.models import Activity
from lms.plugins import ActivityType


class Lesson(Activity):
    __tablename__ = "lessons"

    id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )

    __mapper_args__ = {"polymorphic_identity": "lesson"}


class LessonType(ActivityType):
    key = "lesson"
    label = "Lesson"
    model = Lesson
