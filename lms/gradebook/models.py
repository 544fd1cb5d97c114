"""Gradebook rows: categories with weights, which category an activity counts in, overrides."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models import User
from lms.timeutil import utcnow


class GradeCategory(db.Model):
    """A group of graded activities (e.g. "Labs", "Practice") with its weight in the course total."""

    __tablename__ = "grade_categories"
    __table_args__ = (Index("ix_grade_categories_course", "course_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    position: Mapped[int] = mapped_column(Integer, default=0)


class GradeItem(db.Model):
    """The category a graded activity counts in (none: it counts on its own in the total)."""

    __tablename__ = "grade_items"

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("grade_categories.id", ondelete="SET NULL")
    )


class GradeOverride(db.Model):
    """A trainer's grade replacing the computed one (``activity_id`` NULL: the course total)."""

    __tablename__ = "grade_overrides"
    __page_scope__ = "user"
    __table_args__ = (Index("ix_grade_overrides_course_user", "course_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    grade: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    by: Mapped[User | None] = relationship(foreign_keys=[by_id])
