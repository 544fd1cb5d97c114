"""Monthly snapshots of the raw figures and the targets per partner and indicator."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models import Organization
from lms.timeutil import utcnow


class IndicatorSnapshot(db.Model):
    """The raw figures of one partner (or the whole cluster, ``organization_id`` None) in one month.

    ``data`` holds the counts, numerators and denominators (JSON), so rates can be recomputed for
    totals and history survives people leaving and old rows being archived.
    """

    __tablename__ = "cluster_snapshots"
    __page_scope__ = "none"
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
        """The stored raw figures."""
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


class CohortBase(db.Model):
    """The part of a month's learner cohort that is fixed when the month begins, per partner.

    The cohort of a month is every enrolment of the year before the month's end (completion rate,
    learners in training). Its enrolments before the month began, those of them completed before
    it began, and their distinct learners not withdrawn by then do not change during the month;
    stored once (``cluster snapshot``), the live month adds only the month's own enrolments and
    completions to them, so its cost does not grow with learners or months. The row with
    ``scope`` "cluster" marks the month's base as taken.
    """

    __tablename__ = "cluster_cohort_bases"
    __page_scope__ = "none"
    __table_args__ = (
        UniqueConstraint("month", "scope", name="uq_cluster_cohort_bases_month_scope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # "2026-12"
    scope: Mapped[str] = mapped_column(String(40))  # "org:<id>" or "cluster"
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    enrolments: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)
    learners: Mapped[int] = mapped_column(Integer, default=0)
    taken_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
