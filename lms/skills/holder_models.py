"""The stored counts behind the skills gap (see :mod:`lms.skills.holders` for how they are
kept): per person, the rows the counts hold for them, and the counts per scope, skill and level."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.extensions import db
from lms.skills.gap_models import SkillEvidence
from lms.timeutil import utcnow

# Lapsed evidence is found by time on every gap read.
Index("ix_skill_evidence_expires_at", SkillEvidence.expires_at)

CLUSTER_SCOPE = "cluster"
#: The due date of a pipeline row no program dates: before any demand date.
NO_DUE = date(1970, 1, 1)


class HoldingKind(enum.StrEnum):
    """What a stored row counts."""

    HELD = "held"
    PIPELINE = "pipeline"


def org_scope(org_id: int | None) -> str:
    """The scope key of an organization (None: the cluster)."""
    return CLUSTER_SCOPE if org_id is None else f"org:{org_id}"


class SkillHolding(db.Model):
    """One row the stored counts hold for one person: a skill held at a level, or a level the
    person is in the pipeline for (with its due date), in one scope."""

    __tablename__ = "skill_holdings"
    __page_scope__ = "user"
    __table_args__ = (
        UniqueConstraint("user_id", "skill_id", "scope", "kind", "level",
                         name="uq_skill_holdings_user_skill_scope"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(40))  # "org:<id>" or "cluster"
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(10))  # HoldingKind
    level: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date | None] = mapped_column(Date)  # pipeline rows only


class SkillHolderCount(db.Model):
    """How many people of a scope hold a skill at exactly a level (``held``), or are in the
    pipeline for a level by a date (``pipeline``)."""

    __tablename__ = "skill_holder_counts"
    __page_scope__ = "none"
    __table_args__ = (
        UniqueConstraint("scope", "skill_id", "kind", "level", "due_on",
                         name="uq_skill_holder_counts_scope_skill"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(40))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    level: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date | None] = mapped_column(Date)
    people: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
