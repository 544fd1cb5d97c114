"""Supply and demand of skills: the evidence a person holds a skill, and what organizations need.

Supply is never stored as a bare level: each :class:`SkillEvidence` row says *why* someone holds a
skill at a level (a course completed, a lab or quiz passed, a trainer's validation, a
self-assessment), when, and until when it counts. The current level is computed from the evidence
at read time (see :mod:`lms.skills.supply`), so an expired re-certification lowers it again the
moment it lapses, without a batch job.

Demand is a :class:`JobRole` of an organization (title, headcount, the date it is needed by) with
the skills and levels it requires (:class:`RoleSkill`).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.skills.models import Skill
from lms.timeutil import utcnow

ROLE_TITLE_MAX = 200
#: The longest job description kept with a role (a pasted one is checked before suggestion).
ROLE_DESCRIPTION_MAX = 20_000


class EvidenceKind(enum.StrEnum):
    """Why a person holds a skill at a level (strongest first, see :data:`EVIDENCE_LABELS`)."""

    VALIDATION = "validation"  # a trainer or mentor validated it (with a comment)
    COURSE = "course"  # earned by completing a course with that outcome
    ACTIVITY = "activity"  # earned by passing a lab or quiz with that outcome
    SELF = "self"  # the person's own assessment: shown apart, never counted as held


EARNED_KINDS = (EvidenceKind.COURSE, EvidenceKind.ACTIVITY)
EVIDENCE_LABELS = {
    EvidenceKind.VALIDATION: "Validated by a trainer",
    EvidenceKind.COURSE: "Course completed",
    EvidenceKind.ACTIVITY: "Lab or quiz passed",
    EvidenceKind.SELF: "Self-assessment",
}


class SkillEvidence(db.Model):
    """One piece of evidence that a person holds a skill at a level, from ``earned_at``."""

    __tablename__ = "skill_evidence"
    __page_scope__ = "user"
    __table_args__ = (
        CheckConstraint("level >= 1", name="level_positive"),
        Index("ix_skill_evidence_user_skill", "user_id", "skill_id"),
        Index("ix_skill_evidence_skill_level", "skill_id", "level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # EvidenceKind
    level: Mapped[int] = mapped_column(Integer)  # rank in the skill's framework scale
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activities.id", ondelete="SET NULL")
    )
    given_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    comment: Mapped[str] = mapped_column(Text, default="")
    earned_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Re-certification: after this moment the evidence no longer counts (None: it does not lapse).
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)

    skill: Mapped[Skill] = relationship()


class JobRole(db.Model):
    """A job role an organization needs people for: headcount, date, required skills."""

    __tablename__ = "skill_demand_roles"
    __table_args__ = (
        CheckConstraint("headcount >= 1", name="headcount_positive"),
        CheckConstraint("organization_id IS NOT NULL OR region <> ''", name="owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # An organization's own role, or (organization None) regional demand a cluster admin imported
    # from a labour office's figures, named by its region.
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    region: Mapped[str] = mapped_column(String(200), default="")
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(ROLE_TITLE_MAX))
    headcount: Mapped[int] = mapped_column(Integer)
    needed_by: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    skills: Mapped[list[RoleSkill]] = relationship(
        back_populates="role", cascade="all, delete-orphan"
    )


class RoleSkill(db.Model):
    """A skill a job role requires, at a level (rank in the skill's framework scale)."""

    __tablename__ = "skill_demand_skills"
    __table_args__ = (CheckConstraint("level >= 1", name="level_positive"),)

    role_id: Mapped[int] = mapped_column(
        ForeignKey("skill_demand_roles.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[int] = mapped_column(
        ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    level: Mapped[int] = mapped_column(Integer)

    role: Mapped[JobRole] = relationship(back_populates="skills")
    skill: Mapped[Skill] = relationship(lazy="joined")
