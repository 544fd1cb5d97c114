"""Cluster monitoring and evaluation: snapshots, targets, signals, placements, funding, surveys.

Every table here is read and written by :mod:`lms.cluster`; the figures themselves come from the
shared domain (courses, enrolments, completions, programs, skill evidence) through set-based
queries in :mod:`lms.cluster.indicators`.
"""

from __future__ import annotations

import enum
import json
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models import Organization, User
from lms.skills.models import Skill
from lms.timeutil import utcnow


# --- indicators ------------------------------------------------------------------------------
class IndicatorSnapshot(db.Model):
    """The raw figures of one partner (or the whole cluster, ``organization_id`` None) in one month.

    ``data`` holds the counts, numerators and denominators (JSON), so rates can be recomputed for
    totals and history survives people leaving and old rows being archived.
    """

    __tablename__ = "cluster_snapshots"
    __table_args__ = (UniqueConstraint("month", "scope", name="uq_cluster_snapshots_month_scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # "2026-11"
    # "org:<id>" or "cluster": one text key keeps the unique constraint NULL-free.
    scope: Mapped[str] = mapped_column(String(40))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    data: Mapped[str] = mapped_column(Text)
    taken_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def figures(self) -> dict:
        return json.loads(self.data)


class IndicatorTarget(db.Model):
    """The cluster admin's target for one partner and one indicator."""

    __tablename__ = "cluster_targets"
    __table_args__ = (UniqueConstraint("organization_id", "indicator"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    indicator: Mapped[str] = mapped_column(String(40))
    target: Mapped[float] = mapped_column(Float)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    organization: Mapped[Organization] = relationship()


# --- signals ---------------------------------------------------------------------------------
class SignalState(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Severity(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ClusterSignal(db.Model):
    """A problem a rule found, owned by the organization that can act (None: the cluster admin).

    ``key`` names the problem ("overdue:program:12"); a partial unique index allows one row per
    key that is not resolved, so the same problem is never raised twice while open, even when two
    evaluations run at once.
    """

    __tablename__ = "cluster_signals"
    __table_args__ = (
        Index(
            "uq_cluster_signals_open_key",
            "key",
            unique=True,
            sqlite_where=text("state != 'resolved'"),
            postgresql_where=text("state != 'resolved'"),
        ),
        Index("ix_cluster_signals_org_state", "organization_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    rule: Mapped[str] = mapped_column(String(40))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    severity: Mapped[str] = mapped_column(String(10), default=Severity.MEDIUM)
    state: Mapped[str] = mapped_column(String(20), default=SignalState.OPEN)
    title: Mapped[str] = mapped_column(String(300))
    figures: Mapped[str] = mapped_column(Text, default="{}")
    link: Mapped[str] = mapped_column(String(500), default="")
    since: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    note: Mapped[str] = mapped_column(Text, default="")
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    organization: Mapped[Organization | None] = relationship()
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])

    @property
    def figures_dict(self) -> dict:
        return json.loads(self.figures or "{}")


# --- placements ------------------------------------------------------------------------------
class PlacementKind(enum.StrEnum):
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
        return PLACEMENT_KIND_LABELS.get(PlacementKind(self.kind), self.kind)

    @property
    def seats_left(self) -> int:
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
    APPLIED = "applied"
    SHORTLISTED = "shortlisted"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class PlacementOutcome(enum.StrEnum):
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


# --- funding ---------------------------------------------------------------------------------
class FundingDirection(enum.StrEnum):
    CONTRIBUTION = "contribution"
    SPENDING = "spending"


class FundingKind(enum.StrEnum):
    MONEY = "money"
    EQUIPMENT = "equipment"
    STAFF_HOURS = "staff_hours"


FUNDING_KIND_LABELS = {
    FundingKind.MONEY: "Money",
    FundingKind.EQUIPMENT: "Equipment",
    FundingKind.STAFF_HOURS: "Staff hours",
}


class FundingEntry(db.Model):
    """A partner's contribution to a cluster program or project, or spending of it.

    ``amount_cents`` is the value in the cluster's currency (staff hours: hours x hourly rate);
    the entry, with the SHA-256 of its document, is also on the hash-chained ledger (``ledger_seq``).
    """

    __tablename__ = "funding_entries"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        Index("ix_funding_entries_org_direction", "organization_id", "direction"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    program: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    hours: Mapped[float | None] = mapped_column(Float)
    hourly_rate_cents: Mapped[int | None] = mapped_column(Integer)
    occurred_on: Mapped[date] = mapped_column(Date)
    document_name: Mapped[str] = mapped_column(String(255))
    document_type: Mapped[str] = mapped_column(String(100))
    document_sha256: Mapped[str] = mapped_column(String(64))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    ledger_seq: Mapped[int | None] = mapped_column(Integer)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    organization: Mapped[Organization] = relationship()

    @property
    def kind_label(self) -> str:
        return FUNDING_KIND_LABELS.get(FundingKind(self.kind), self.kind)


class LedgerCheckpoint(db.Model):
    """A signed statement of the ledger head (sequence and hash) at a moment, published daily."""

    __tablename__ = "ledger_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    seq: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(Text)  # the signed JSON, exactly as published
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# --- feedback --------------------------------------------------------------------------------
class SurveyKind(enum.StrEnum):
    COURSE_EVALUATION = "course_evaluation"
    FOLLOW_UP = "follow_up"  # the employee, some time after completing
    FOLLOW_UP_HR = "follow_up_hr"  # the employee's HR, about the employee


FOLLOW_UP_KINDS = (SurveyKind.FOLLOW_UP, SurveyKind.FOLLOW_UP_HR)


class SurveyResponse(db.Model):
    """One answer to the course evaluation at completion or the follow-up survey."""

    __tablename__ = "survey_responses"
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
    __table_args__ = (UniqueConstraint("course_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
