"""Signals: problems a rule found, with an owner, a state and the figures behind them."""

from __future__ import annotations

import enum
import json
from datetime import datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models import Organization, User
from lms.timeutil import utcnow


class SignalState(enum.StrEnum):
    """Where a signal stands: open, acknowledged (with a note) or resolved."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Severity(enum.StrEnum):
    """How urgent a signal is."""

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
    __page_scope__ = "none"
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
        """The figures behind the signal."""
        return json.loads(self.figures or "{}")
