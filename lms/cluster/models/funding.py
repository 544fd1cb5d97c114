"""Joint funding: contributions and spending on the ledger, and its signed daily checkpoints."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models import Organization
from lms.timeutil import utcnow


class FundingDirection(enum.StrEnum):
    """Money in (a contribution) or out (spending)."""

    CONTRIBUTION = "contribution"
    SPENDING = "spending"


class FundingKind(enum.StrEnum):
    """What was contributed or spent."""

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
        """The kind, as people read it."""
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
