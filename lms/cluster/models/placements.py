"""Work-based placements: offers, applications, and mentor evaluations."""

from __future__ import annotations

import enum
import json
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models import Organization, User
from lms.skills.models import Skill
from lms.timeutil import utcnow


class PlacementKind(enum.StrEnum):
    """The kinds of work-based placement."""

    INTERNSHIP = "internship"
    DUAL_STUDY = "dual_study"
    APPRENTICESHIP = "apprenticeship"
    COMPANY_PROJECT = "company_project"


PLACEMENT_KIND_LABELS = {
    PlacementKind.INTERNSHIP: "Internship",
    PlacementKind.DUAL_STUDY: "Dual study",
    PlacementKind.APPRENTICESHIP: "Apprenticeship",
    PlacementKind.COMPANY_PROJECT: "Company project",
}


class PlacementStatus(enum.StrEnum):
    """Whether a placement is offered."""

    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"


class Placement(db.Model):
    """A work-based placement an enterprise offers to students of partner universities."""

    __tablename__ = "placements"
    __table_args__ = (
        CheckConstraint("seats >= 1", name="seats_positive"),
        CheckConstraint("seats_filled >= 0 AND seats_filled <= seats", name="seats_not_over"),
        CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
        Index("ix_placements_status_start", "status", "starts_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default=PlacementKind.INTERNSHIP)
    description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    remote: Mapped[bool] = mapped_column(Boolean, default=False)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    seats: Mapped[int] = mapped_column(Integer)
    seats_filled: Mapped[int] = mapped_column(Integer, default=0)
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default=PlacementStatus.PUBLISHED)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)

    organization: Mapped[Organization] = relationship()
    mentor: Mapped[User | None] = relationship(foreign_keys=[mentor_id])
    skills: Mapped[list[PlacementSkill]] = relationship(
        back_populates="placement", cascade="all, delete-orphan"
    )

    @property
    def kind_label(self) -> str:
        """The kind, as people read it."""
        return PLACEMENT_KIND_LABELS.get(PlacementKind(self.kind), self.kind)

    @property
    def seats_left(self) -> int:
        """Seats not yet taken."""
        return self.seats - self.seats_filled


class PlacementSkill(db.Model):
    """A skill (and level) a placement develops and its mentor evaluates."""

    __tablename__ = "placement_skills"

    placement_id: Mapped[int] = mapped_column(
        ForeignKey("placements.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[int] = mapped_column(
        ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    level: Mapped[int] = mapped_column(Integer)

    placement: Mapped[Placement] = relationship(back_populates="skills")
    skill: Mapped[Skill] = relationship(lazy="joined")


class ApplicationState(enum.StrEnum):
    """Where an application stands."""

    APPLIED = "applied"
    SHORTLISTED = "shortlisted"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class PlacementOutcome(enum.StrEnum):
    """How a placement ended."""

    COMPLETED = "completed"
    NOT_COMPLETED = "not_completed"


class PlacementApplication(db.Model):
    """A student's application to a placement: motivation, skill profile, decision, outcome."""

    __tablename__ = "placement_applications"
    __table_args__ = (UniqueConstraint("placement_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(
        ForeignKey("placements.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The student's organization when applying (their university): its trainers follow along.
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    motivation: Mapped[str] = mapped_column(Text)
    profile_json: Mapped[str] = mapped_column(Text, default="[]")  # the skill profile sent
    state: Mapped[str] = mapped_column(String(20), default=ApplicationState.APPLIED)
    message: Mapped[str] = mapped_column(Text, default="")
    applied_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))
    hired: Mapped[bool | None] = mapped_column(Boolean)
    outcome_at: Mapped[datetime | None] = mapped_column(DateTime)

    placement: Mapped[Placement] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @property
    def profile(self) -> list[dict]:
        """The skill profile the student sent."""
        return json.loads(self.profile_json or "[]")


class PlacementEvaluation(db.Model):
    """A mentor's evaluation of one placement skill; it is also validated skill evidence."""

    __tablename__ = "placement_evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("placement_applications.id", ondelete="CASCADE"), index=True
    )
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text)
    evidence_id: Mapped[int | None] = mapped_column(
        ForeignKey("skill_evidence.id", ondelete="SET NULL")
    )
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    skill: Mapped[Skill] = relationship(lazy="joined")
    mentor: Mapped[User | None] = relationship()
