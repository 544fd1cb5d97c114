"""Feedback: course evaluations, follow-up surveys and their invitations."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lms.extensions import db
from lms.timeutil import utcnow


class SurveyKind(enum.StrEnum):
    """Which survey an answer belongs to."""

    COURSE_EVALUATION = "course_evaluation"
    FOLLOW_UP = "follow_up"  # the employee, some time after completing
    FOLLOW_UP_HR = "follow_up_hr"  # the employee's HR, about the employee


FOLLOW_UP_KINDS = (SurveyKind.FOLLOW_UP, SurveyKind.FOLLOW_UP_HR)


class SurveyResponse(db.Model):
    """One answer to the course evaluation at completion or the follow-up survey."""

    __tablename__ = "survey_responses"
    __page_scope__ = "user"
    __table_args__ = (
        UniqueConstraint("kind", "course_id", "user_id"),
        CheckConstraint(
            "satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name="satisfaction"
        ),
        CheckConstraint("relevance IS NULL OR relevance BETWEEN 1 AND 5", name="relevance"),
        CheckConstraint("skills_used IS NULL OR skills_used BETWEEN 1 AND 5", name="skills_used"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    # Whom the answer is about (the learner); ``respondent_id`` is who answered (HR for follow_up_hr).
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    respondent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    relevance: Mapped[int | None] = mapped_column(Integer)
    skills_used: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SurveyInvitation(db.Model):
    """A follow-up survey sent for one completion: never sent twice (unique key)."""

    __tablename__ = "survey_invitations"
    __page_scope__ = "user"
    __table_args__ = (UniqueConstraint("course_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
