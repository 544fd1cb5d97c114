"""Completion state per learner: per activity and per course."""

from __future__ import annotations

import enum
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
from lms.models import Organization, User
from lms.timeutil import utcnow


class ActivityCompletion(db.Model):
    """What a learner has done in one activity: viewed, submitted, best grade, completed."""

    __tablename__ = "activity_completions"
    __page_scope__ = "user"
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


class LearningEvent(enum.StrEnum):
    """What a plugin reports a learner did (``record_activity_event``)."""

    VIEWED = "viewed"
    SUBMITTED = "submitted"
    GRADED = "graded"


class CompletionState(enum.StrEnum):
    """Where a learner stands in a course (``CourseCompletion.state``)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"


class CourseCompletion(db.Model):
    """A learner's state in a course: not_started, in_progress, completed or failed."""

    __tablename__ = "course_completions"
    __page_scope__ = "user"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        Index("ix_course_completions_course_state", "course_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(20), default=CompletionState.NOT_STARTED)
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # percent of required activities
    grade: Mapped[float | None] = mapped_column(Float)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_activity_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()
    course: Mapped[Course] = relationship()


class CompletionHistory(db.Model):
    """A course completion that was reset for re-certification (the record survives the reset)."""

    __tablename__ = "completion_history"
    __page_scope__ = "user"
    __table_args__ = (Index("ix_completion_history_user_course", "user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(20))
    grade: Mapped[float | None] = mapped_column(Float)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    archived_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(String(200), default="")


class ProgramPurpose(enum.StrEnum):
    """Why an organization runs a training program."""

    UPSKILLING = "upskilling"
    RETRAINING = "retraining"
    ONBOARDING = "onboarding"
    COMPLIANCE = "compliance"


PROGRAM_PURPOSE_LABELS = {
    ProgramPurpose.UPSKILLING: "Upskilling",
    ProgramPurpose.RETRAINING: "Retraining",
    ProgramPurpose.ONBOARDING: "Onboarding",
    ProgramPurpose.COMPLIANCE: "Compliance",
}


class Program(db.Model):
    """An organization's upskilling, retraining, onboarding or compliance program of courses."""

    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(20), default=ProgramPurpose.UPSKILLING)
    description: Mapped[str] = mapped_column(Text, default="")
    completion_mode: Mapped[str] = mapped_column(String(10), default="all")  # all | n_of
    completion_count: Mapped[int | None] = mapped_column(Integer)
    due_mode: Mapped[str] = mapped_column(String(10), default="fixed")  # fixed | relative
    due_date: Mapped[datetime | None] = mapped_column(DateTime)  # fixed: end of that day
    due_days: Mapped[int | None] = mapped_column(Integer)  # relative: days after assignment
    validity_months: Mapped[int | None] = mapped_column(Integer)  # re-certification period
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)

    organization: Mapped[Organization] = relationship()
    courses: Mapped[list[ProgramCourse]] = relationship(
        back_populates="program", cascade="all, delete-orphan", order_by="ProgramCourse.position"
    )

    @property
    def purpose_label(self) -> str:
        """Human label of the program's purpose."""
        return PROGRAM_PURPOSE_LABELS.get(self.purpose, self.purpose)

    @property
    def required_count(self) -> int:
        """How many of its courses complete the program."""
        total = len(self.courses)
        if self.completion_mode == "n_of" and self.completion_count:
            return min(self.completion_count, total)
        return total


class ProgramCourse(db.Model):
    """A course in a training program, at its position."""

    __tablename__ = "program_courses"
    __table_args__ = (UniqueConstraint("program_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    program: Mapped[Program] = relationship(back_populates="courses")
    course: Mapped[Course] = relationship()


class AssignmentStatus(enum.StrEnum):
    """State of an employee's program assignment."""

    ASSIGNED = "assigned"  # shown as "Not started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    EXPIRED = "expired"
    # "overdue" is derived (due_at passed, not completed), never stored.


class ProgramAssignment(db.Model):
    """A program assigned to one employee, for one certification cycle."""

    __tablename__ = "program_assignments"
    __page_scope__ = "user"
    __table_args__ = (
        UniqueConstraint("program_id", "user_id", "cycle"),
        # Covering for the employee table (count, and ids joined to users for the name sort).
        Index("ix_program_assignments_org_status", "organization_id", "status", "user_id"),
        Index("ix_program_assignments_user", "user_id", "status"),
        # The HR employee table sorts one organization's assignments by these columns.
        Index("ix_program_assignments_org_progress", "organization_id", "progress"),
        Index("ix_program_assignments_org_due", "organization_id", "due_at"),
        Index("ix_program_assignments_org_last", "organization_id", "last_activity_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    # Denormalised from the program so HR queries filter on one indexed column.
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), default=AssignmentStatus.ASSIGNED)
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # percent
    courses_completed: Mapped[int] = mapped_column(Integer, default=0)
    last_activity_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    cycle: Mapped[int] = mapped_column(Integer, default=1)

    program: Mapped[Program] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    assigned_by: Mapped[User | None] = relationship(foreign_keys=[assigned_by_id])

    @property
    def display_status(self) -> str:
        """The status people see: stored status, or "overdue" once the due date has passed."""
        if self.status in (AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS):
            if self.due_at is not None and self.due_at < utcnow():
                return "overdue"
            return "not_started" if self.status == AssignmentStatus.ASSIGNED else "in_progress"
        return self.status


class AssignmentReminder(db.Model):
    """One reminder sent for an assignment in one window: never sent twice (unique key)."""

    __tablename__ = "assignment_reminders"
    __page_scope__ = "none"
    __table_args__ = (UniqueConstraint("assignment_id", "window"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("program_assignments.id", ondelete="CASCADE")
    )
    window: Mapped[str] = mapped_column(String(40))  # "due-7d", "overdue-w1", ...
    sent_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Notification(db.Model):
    """An in-app message to one user (program assigned, reminder, completion)."""

    __tablename__ = "notifications"
    __page_scope__ = "user"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
