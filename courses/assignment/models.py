"""Assignment rows: the settings, learners' submissions and files, grades, extensions, peer reviews."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.domain.models import Activity
from lms.extensions import db
from lms.models import User
from lms.timeutil import utcnow


class GradingMethod(enum.StrEnum):
    """How an assignment is graded."""

    SCORE = "score"  # a simple score out of ``max_score`` points
    RUBRIC = "rubric"  # criteria x levels with points (Moodle's advanced grading)


class Resubmission(enum.StrEnum):
    """When a learner may hand in again."""

    UNTIL_GRADED = "until_graded"  # a submitted learner may reopen until a grade exists
    ON_REQUEST = "on_request"  # only when the trainer reopens the submission
    NEVER = "never"  # one submission


class SubmissionStatus(enum.StrEnum):
    """A submission is a draft until the learner submits it."""

    DRAFT = "draft"
    SUBMITTED = "submitted"


class ReviewStatus(enum.StrEnum):
    """A peer review is assigned, then done."""

    ASSIGNED = "assigned"
    DONE = "done"


class Assignment(Activity):
    """What learners hand in, by when, and how it is graded."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    instructions: Mapped[str] = mapped_column(Text, default="")  # Markdown
    submit_text: Mapped[bool] = mapped_column(Boolean, default=True)
    submit_files: Mapped[bool] = mapped_column(Boolean, default=False)
    file_types: Mapped[list[str]] = mapped_column(JSON, default=list)  # extensions, no dot
    max_file_bytes: Mapped[int] = mapped_column(Integer, default=5 * 1024 * 1024)
    max_files: Mapped[int] = mapped_column(Integer, default=3)
    due_at: Mapped[datetime | None] = mapped_column(DateTime)
    cutoff_at: Mapped[datetime | None] = mapped_column(DateTime)
    resubmission: Mapped[str] = mapped_column(String(20), default=Resubmission.UNTIL_GRADED)
    grading: Mapped[str] = mapped_column(String(10), default=GradingMethod.SCORE)
    max_score: Mapped[float] = mapped_column(Float, default=100.0)
    # [{"title", "description", "levels": [{"title", "points"}]}], see rubric.py
    rubric: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    peer_review: Mapped[bool] = mapped_column(Boolean, default=False)
    peer_count: Mapped[int] = mapped_column(Integer, default=2)
    peer_weight: Mapped[float] = mapped_column(Float, default=20.0)  # percent of the final grade
    grades_released_at: Mapped[datetime | None] = mapped_column(DateTime)

    graders: Mapped[list[AssignmentGrader]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    __mapper_args__ = {"polymorphic_identity": "assignment"}

    @property
    def released(self) -> bool:
        """Whether learners see their grades."""
        return self.grades_released_at is not None


class AssignmentGrader(db.Model):
    """A person who may grade this assignment without authoring the course (an enterprise mentor)."""

    __tablename__ = "assignment_graders"
    __table_args__ = (UniqueConstraint("assignment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    user: Mapped[User] = relationship()


class AssignmentExtension(db.Model):
    """A later due date for one learner (it also lifts the cut-off for them until then)."""

    __tablename__ = "assignment_extensions"
    __page_scope__ = "user"
    __table_args__ = (UniqueConstraint("assignment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class AssignmentSubmission(db.Model):
    """One learner's work: a draft until submitted; ``attempt`` counts reopenings."""

    __tablename__ = "assignment_submissions"
    __page_scope__ = "user"
    __table_args__ = (
        UniqueConstraint("assignment_id", "user_id"),
        Index("ix_assignment_submissions_assignment_status", "assignment_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=SubmissionStatus.DRAFT)
    text: Mapped[str] = mapped_column(Text, default="")  # Markdown
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    assignment: Mapped[Assignment] = relationship()
    user: Mapped[User] = relationship()
    files: Mapped[list[SubmissionFile]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="SubmissionFile.id"
    )
    grade: Mapped[AssignmentGrade | None] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, uselist=False
    )

    @property
    def submitted(self) -> bool:
        """Whether the work was handed in (not a draft)."""
        return self.status == SubmissionStatus.SUBMITTED


class SubmissionFile(db.Model):
    """A file of a submission, checked by content like course attachments."""

    __tablename__ = "assignment_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("assignment_submissions.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AssignmentGrade(db.Model):
    """The trainer's grade of a submission: rubric choices or a score, feedback, a feedback file."""

    __tablename__ = "assignment_grades"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("assignment_submissions.id", ondelete="CASCADE"), unique=True
    )
    grader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    levels: Mapped[list[int]] = mapped_column(JSON, default=list)  # level index per criterion
    points: Mapped[float] = mapped_column(Float, default=0.0)
    score: Mapped[float] = mapped_column(Float, default=0.0)  # trainer's score, 0..100
    final_score: Mapped[float] = mapped_column(Float, default=0.0)  # with peers, 0..100
    feedback: Mapped[str] = mapped_column(Text, default="")  # Markdown
    feedback_filename: Mapped[str | None] = mapped_column(String(255))
    feedback_content_type: Mapped[str | None] = mapped_column(String(100))
    feedback_data: Mapped[bytes | None] = mapped_column(LargeBinary)
    graded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # When the learner was last told (mail and in-app notice) about this grade; a release tells
    # only those never told or graded again since, so withholding and releasing again is quiet.
    notified_at: Mapped[datetime | None] = mapped_column(DateTime)

    grader: Mapped[User | None] = relationship()


class PeerReview(db.Model):
    """One learner's review of another's submission, with the rubric (or a score)."""

    __tablename__ = "assignment_peer_reviews"
    __table_args__ = (
        UniqueConstraint("submission_id", "reviewer_id"),
        Index("ix_assignment_peer_reviews_reviewer", "assignment_id", "reviewer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("assignment_submissions.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default=ReviewStatus.ASSIGNED)
    levels: Mapped[list[int]] = mapped_column(JSON, default=list)
    score: Mapped[float | None] = mapped_column(Float)  # 0..100
    comment: Mapped[str] = mapped_column(Text, default="")  # Markdown
    assigned_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)

    submission: Mapped[AssignmentSubmission] = relationship()
