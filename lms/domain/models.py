"""Course, Module, Enrolment and the Activity base that every activity plugin subclasses.

These live in core because progress, labs and every plugin build on them, and core must never
import a plugin. Each plugin's model is a joined-table subclass of :class:`Activity` whose
polymorphic identity is the plugin's key.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
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
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models import Organization, User
from lms.timeutil import utcnow

if TYPE_CHECKING:  # the skills models refer back to these; SQLAlchemy resolves them by name
    from lms.skills.models import ActivityOutcome, CourseOutcome, Skill


class CourseStatus(enum.StrEnum):
    """Editorial state of a course, from draft to archived."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    ARCHIVED = "archived"


COURSE_STATUS_LABELS = {
    CourseStatus.DRAFT: "Draft",
    CourseStatus.IN_REVIEW: "In review",
    CourseStatus.PUBLISHED: "Published",
    CourseStatus.ARCHIVED: "Archived",
}

LEVELS = ("beginner", "intermediate", "advanced")


class Visibility(enum.StrEnum):
    """Which learners may see and enrol in a published course."""

    PARTNERS = "partners"  # learners of the partner organizations
    CLUSTER = "cluster"  # every learner of the cluster


class Course(db.Model):
    """A course of the cluster, co-owned by partner organizations."""

    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")  # Markdown
    level: Mapped[str] = mapped_column(String(20), default="beginner")
    estimated_hours: Mapped[float] = mapped_column(Float, default=1.0)
    language: Mapped[str] = mapped_column(String(10), default="en")
    cover_attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachments.id", ondelete="SET NULL", use_alter=True)
    )
    status: Mapped[str] = mapped_column(String(20), default=CourseStatus.DRAFT, index=True)
    visibility: Mapped[str] = mapped_column(String(20), default=Visibility.PARTNERS)
    enrolment_key_hash: Mapped[str | None] = mapped_column(String(255))
    # Bumped by every content edit; a sign-off counts only for the version it was given on.
    content_version: Mapped[int] = mapped_column(Integer, default=1)
    # Course completion rule: "all" required activities, or "n_of" them; optional minimum grade.
    completion_mode: Mapped[str] = mapped_column(String(10), default="all")
    completion_count: Mapped[int | None] = mapped_column(Integer)
    completion_min_grade: Mapped[float | None] = mapped_column(Float)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)

    partners: Mapped[list[CoursePartner]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="CoursePartner.id"
    )
    modules: Mapped[list[Module]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="Module.position"
    )
    # What the course develops (skill + level); ``skills`` is the read-only list of those skills.
    outcomes: Mapped[list[CourseOutcome]] = relationship(
        cascade="all, delete-orphan", order_by="CourseOutcome.skill_id"
    )
    skills: Mapped[list[Skill]] = relationship(
        secondary="course_outcomes", order_by="Skill.preferred_label", viewonly=True
    )
    signoffs: Mapped[list[CourseSignoff]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="CourseSignoff.signed_at"
    )
    created_by: Mapped[User | None] = relationship()

    @property
    def status_label(self) -> str:
        """Human label of the course's editorial state."""
        return COURSE_STATUS_LABELS.get(CourseStatus(self.status), self.status)

    @property
    def partner_org_ids(self) -> set[int]:
        """Ids of the course's partner organizations."""
        return {p.organization_id for p in self.partners}

    def __repr__(self) -> str:
        return f"<Course {self.slug}>"


class CoursePartner(db.Model):
    """An organization co-designing a course, with its role (academic lead, industry partner...)."""

    __tablename__ = "course_partners"
    __table_args__ = (UniqueConstraint("course_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(40), default="partner")

    course: Mapped[Course] = relationship(back_populates="partners")
    organization: Mapped[Organization] = relationship()


class CourseSignoff(db.Model):
    """A partner organization's approval of one content version of a course."""

    __tablename__ = "course_signoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    content_version: Mapped[int] = mapped_column(Integer)
    signed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    comment: Mapped[str] = mapped_column(Text, default="")
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A site administrator signed for a partner they do not belong to; ``comment`` is the reason.
    is_override: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    course: Mapped[Course] = relationship(back_populates="signoffs")
    organization: Mapped[Organization] = relationship()
    user: Mapped[User | None] = relationship()


class Module(db.Model):
    """A titled section of a course that groups its activities."""

    __tablename__ = "modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    course: Mapped[Course] = relationship(back_populates="modules")
    activities: Mapped[list[Activity]] = relationship(
        back_populates="module", cascade="all, delete-orphan", order_by="Activity.position"
    )


class CompletionRule(enum.StrEnum):
    """What a learner must do for an activity to count as completed."""

    NONE = "none"
    VIEWED = "viewed"
    SUBMITTED = "submitted"
    GRADED = "graded"
    PASSED = "passed"


class ConditionKind(enum.StrEnum):
    """A restrict-access condition on another activity: completed, or a minimum grade."""

    COMPLETED = "completed"
    GRADE = "grade"


class Activity(db.Model):
    """Base of every activity type (joined-table inheritance; ``type`` is the plugin key)."""

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_course_position", "course_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    completion_rule: Mapped[str] = mapped_column(String(20), default=CompletionRule.VIEWED)
    pass_mark: Mapped[float | None] = mapped_column(Float)  # 0..100, for the "passed" rule
    weight: Mapped[float] = mapped_column(Float, default=1.0)  # in the course grade
    required: Mapped[bool] = mapped_column(Boolean, default=True)  # for course completion
    available_from: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    module: Mapped[Module] = relationship(back_populates="activities")
    course: Mapped[Course] = relationship()
    conditions: Mapped[list[ActivityCondition]] = relationship(
        back_populates="activity",
        cascade="all, delete-orphan",
        foreign_keys="ActivityCondition.activity_id",
    )
    outcomes: Mapped[list[ActivityOutcome]] = relationship(
        cascade="all, delete-orphan", order_by="ActivityOutcome.skill_id"
    )

    __mapper_args__ = {"polymorphic_on": "type", "polymorphic_identity": "activity"}

    def __repr__(self) -> str:
        return f"<Activity {self.type} {self.id} {self.title!r}>"


class ActivityCondition(db.Model):
    """Restrict access (Moodle's): open only after another activity is completed or graded."""

    __tablename__ = "activity_conditions"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # a ConditionKind
    required_activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE")
    )
    min_grade: Mapped[float | None] = mapped_column(Float)

    activity: Mapped[Activity] = relationship(
        back_populates="conditions", foreign_keys=[activity_id]
    )
    required_activity: Mapped[Activity] = relationship(foreign_keys=[required_activity_id])


class EnrolmentStatus(enum.StrEnum):
    """Whether an enrolment is current or withdrawn."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class Enrolment(db.Model):
    """A learner's enrolment in a course."""

    __tablename__ = "enrolments"
    __page_scope__ = "user"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=EnrolmentStatus.ACTIVE)
    method: Mapped[str] = mapped_column(String(20), default="self")  # self|trainer|program|import
    enrolled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    enrolled_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    course: Mapped[Course] = relationship()


class CourseInvitation(db.Model):
    """A trainer's invitation to a learner of a non-partner organization: enrolled on acceptance.

    People of organizations that are not partners of the course join only with their consent
    (or through their own HR's program assignment), and appear in its reports only then.
    """

    __tablename__ = "course_invitations"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    course: Mapped[Course] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])


class Attachment(db.Model):
    """A file uploaded to a course (images for lessons, downloads, the cover image)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
