"""Completion state per learner: per activity and per course."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.domain.models import Activity, Course
from lms.extensions import db
from lms.models import User
from lms.timeutil import utcnow


class ActivityCompletion(db.Model):
    """What a learner has done in one activity: viewed, submitted, best grade, completed."""

    __tablename__ = "activity_completions"
    __table_args__ = (
        UniqueConstraint("user_id", "activity_id"),
        Index("ix_activity_completions_course_user", "course_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    viewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    grade: Mapped[float | None] = mapped_column(Float)  # best grade, 0..100
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    failed: Mapped[bool] = mapped_column(Boolean, default=False)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    overridden_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    override_reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    activity: Mapped[Activity] = relationship()


class CourseCompletion(db.Model):
    """A learner's state in a course: not_started, in_progress, completed or failed."""

    __tablename__ = "course_completions"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        Index("ix_course_completions_course_state", "course_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(20), default="not_started")
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # percent of required activities
    grade: Mapped[float | None] = mapped_column(Float)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_activity_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()
    course: Mapped[Course] = relationship()
