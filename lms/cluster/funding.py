"""Transparent joint funding: contributions and spending, each with its document and each onto
the hash-chained ledger; daily signed checkpoints of the ledger head; the public totals."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask import current_app
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, joinedload

from lms.cluster.models import (
    FundingDirection,
    FundingEntry,
    FundingKind,
    LedgerCheckpoint,
)
from lms.credentials.checkpoints import ledger_head, sign_checkpoint
from lms.credentials.ledger import append_entry
from lms.errors import DomainError, InvalidFields
from lms.extensions import db
from lms.models import Organization, User

AMOUNT_MAX = Decimal("10000000")  # ten million in the cluster's currency per entry
HOURS_MAX = Decimal("100000")
RATE_MAX = Decimal("10000")
DOCUMENT_MAX = 5 * 1024 * 1024
DOCUMENT_TYPES = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}
PROGRAM_MAX = 200


def cluster_currency() -> str:
    """The one currency the cluster keeps its books in (``CLUSTER_CURRENCY``, default EUR)."""
    return str(current_app.config.get("CLUSTER_CURRENCY") or "EUR").upper()


@dataclass
class FundingData:
    """What a partner types for one entry (text, checked by :func:`record_funding`)."""

    direction: str
    kind: str
    program: str
    description: str
    currency: str
    amount: str = ""
    hours: str = ""
    hourly_rate: str = ""
    occurred_on: date | None = None
    document_name: str = ""
    document_type: str = ""
    document: bytes = b""


def _money(raw: str, field: str, label: str, top: Decimal) -> Decimal | None:
    text = (raw or "").strip().replace(" ", "").replace(",", "")
    if not text:
        raise DomainError(f"Enter the {label}.", field)
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise DomainError(f"The {label} must be a number, such as 1500.00.", field)
    if value <= 0:
        raise DomainError(f"The {label} must be more than zero.", field)
    if value > top:
        raise DomainError(f"The {label} is more than {top:,} — check the figure.", field)
    if value != value.quantize(Decimal("0.01")):
        raise DomainError(f"The {label} has at most two decimals.", field)
    return value


def _checked(data: FundingData, today: date) -> tuple[int, Decimal | None, int | None]:
    """(amount in cents, hours, hourly rate in cents) or every problem at once."""
    errors: list[DomainError] = []
    amount_cents, hours, rate_cents = 0, None, None
    if data.direction not in set(FundingDirection):
        errors.append(DomainError("Say whether this is a contribution or spending.", "direction"))
    if data.kind not in set(FundingKind):
        errors.append(DomainError("Choose money, equipment or staff hours.", "kind"))
    if not data.program.strip() or len(data.program) > PROGRAM_MAX:
        errors.append(DomainError("Name the cluster program or project.", "program"))
    if len(data.description) > 2000:
        errors.append(DomainError("Keep the description under 2000 characters.", "description"))
    currency = (data.currency or "").strip().upper()
    if currency != cluster_currency():
        errors.append(
            DomainError(
                f"The cluster keeps its books in {cluster_currency()}: convert the amount to "
                f"{cluster_currency()} first.",
                "currency",
            )
        )
    try:
        if data.kind == FundingKind.STAFF_HOURS:
            hours = _money(data.hours, "hours", "number of hours", HOURS_MAX)
            rate = _money(data.hourly_rate, "hourly_rate", "hourly rate", RATE_MAX)
            value = (hours * rate).quantize(Decimal("0.01"))
            if value > AMOUNT_MAX:
                raise DomainError(f"Hours x rate is more than {AMOUNT_MAX:,}.", "hours")
            amount_cents, rate_cents = int(value * 100), int(rate * 100)
        else:
            amount_cents = int(_money(data.amount, "amount", "amount", AMOUNT_MAX) * 100)
    except DomainError as exc:
        errors.append(exc)
    if data.occurred_on is None:
        errors.append(DomainError("Enter the date of the contribution or spending.", "occurred_on"))
    elif data.occurred_on > today:
        errors.append(DomainError("The date cannot be in the future.", "occurred_on"))
    if not data.document:
        errors.append(
            DomainError("Attach the document (invoice, contract, timesheet).", "document")
        )
    elif len(data.document) > DOCUMENT_MAX:
        errors.append(DomainError("The document is larger than 5 MB.", "document"))
    elif data.document_type not in DOCUMENT_TYPES:
        errors.append(DomainError("Attach a PDF, PNG or JPEG document.", "document"))
    if errors:
        raise InvalidFields(errors)
    return amount_cents, hours, rate_cents


def program_balance(program: str) -> int:
    """Contributions minus spending of one program, in cents."""
    value = db.session.scalar(
        select(
            func.coalesce(
                func.sum(
                    case(
                        (
                            FundingEntry.direction == FundingDirection.SPENDING,
                            -FundingEntry.amount_cents,
                        ),
                        else_=FundingEntry.amount_cents,
                    )
                ),
                0,
            )
        ).where(func.lower(FundingEntry.program) == program.strip().lower())
    )
    return int(value or 0)


def record_funding(org: Organization, data: FundingData, by: User, now: datetime) -> FundingEntry:
    """Record one entry and append it to the ledger, in the caller's transaction (flush only)."""
    amount_cents, hours, rate_cents = _checked(data, now.date())
    program = data.program.strip()
    if data.direction == FundingDirection.SPENDING and amount_cents > program_balance(program):
        raise DomainError(
            f"Spending is more than what is left of {program} "
            f"({program_balance(program) / 100:,.2f} {cluster_currency()}).",
            "amount" if data.kind != FundingKind.STAFF_HOURS else "hours",
        )
    sha = hashlib.sha256(data.document).hexdigest()
    entry = FundingEntry(
        organization_id=org.id, direction=data.direction, kind=data.kind, program=program,
        description=data.description.strip(), amount_cents=amount_cents,
        currency=cluster_currency(), hours=float(hours) if hours is not None else None,
        hourly_rate_cents=rate_cents, occurred_on=data.occurred_on,
        document_name=(data.document_name or "document")[:255], document_type=data.document_type,
        document_sha256=sha, document=data.document, entered_by_id=by.id, created_at=now,
    )  # fmt: skip
    db.session.add(entry)
    db.session.flush()
    ledger = append_entry(
        f"funding_{data.direction}",
        {
            "funding_id": entry.id, "organization_id": org.id, "organization": org.name,
            "kind": data.kind, "program": program, "amount_cents": amount_cents,
            "currency": entry.currency, "occurred_on": data.occurred_on.isoformat(),
            "document_sha256": sha,
        },
    )  # fmt: skip
    entry.ledger_seq = ledger.seq
    db.session.flush()
    return entry


def create_checkpoint(now: datetime) -> tuple[LedgerCheckpoint, bool]:
    """Today's signed checkpoint of the ledger head (once a day; the second call returns it)."""
    existing = db.session.scalar(select(LedgerCheckpoint).where(LedgerCheckpoint.day == now.date()))
    if existing is not None:
        return existing, False
    seq, head_hash = ledger_head()
    document = sign_checkpoint(seq, head_hash, now)
    row = LedgerCheckpoint(
        day=now.date(), seq=seq, head_hash=head_hash, created_at=now,
        document=json.dumps(document, sort_keys=True),
    )  # fmt: skip
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return db.session.scalar(
            select(LedgerCheckpoint).where(LedgerCheckpoint.day == now.date())
        ), False
    return row, True


def transparency_totals() -> dict:
    """Contributions and spending per partner and program, with totals (one query)."""
    rows = db.session.execute(
        select(
            Organization.name,
            FundingEntry.program,
            FundingEntry.direction,
            func.sum(FundingEntry.amount_cents),
            func.count(FundingEntry.id),
        )
        .join(Organization, Organization.id == FundingEntry.organization_id)
        .group_by(Organization.name, FundingEntry.program, FundingEntry.direction)
        .order_by(Organization.name, FundingEntry.program)
    ).all()
    table: dict[tuple[str, str], dict] = {}
    totals = {FundingDirection.CONTRIBUTION: 0, FundingDirection.SPENDING: 0}
    programs: dict[str, dict] = {}
    for org, program, direction, cents, count in rows:
        row = table.setdefault(
            (org, program),
            {
                "organization": org,
                "program": program,
                "contribution": 0,
                "spending": 0,
                "entries": 0,
            },
        )
        row[direction] += int(cents)
        row["entries"] += count
        totals[direction] += int(cents)
        prog = programs.setdefault(program, {"program": program, "contribution": 0, "spending": 0})
        prog[direction] += int(cents)
    return {
        "rows": list(table.values()),
        "programs": sorted(programs.values(), key=lambda p: p["program"].lower()),
        "contribution": totals[FundingDirection.CONTRIBUTION],
        "spending": totals[FundingDirection.SPENDING],
        "currency": cluster_currency(),
    }


def recent_entries(limit: int = 100, org_id: int | None = None) -> list[FundingEntry]:
    """The newest entries (of one organization), for the public page and the partner's page."""
    stmt = (
        select(FundingEntry)
        .options(defer(FundingEntry.document), joinedload(FundingEntry.organization))
        .order_by(FundingEntry.created_at.desc(), FundingEntry.id.desc())
    )
    if org_id is not None:
        stmt = stmt.where(FundingEntry.organization_id == org_id)
    return list(db.session.scalars(stmt.limit(limit)))


def checkpoints(limit: int = 60) -> list[LedgerCheckpoint]:
    """The published checkpoints, newest first."""
    return list(
        db.session.scalars(
            select(LedgerCheckpoint).order_by(LedgerCheckpoint.day.desc()).limit(limit)
        )
    )
