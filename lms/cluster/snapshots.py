"""Monthly snapshots of the raw figures (``flask --app app cluster snapshot``, cron, idempotent)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.cluster.models import IndicatorSnapshot
from lms.cluster.periods import Period, parse_period, previous_month
from lms.cluster.raw import CLUSTER, raw_figures
from lms.errors import DomainError
from lms.extensions import db


def store_snapshot(month: Period, raw: dict[int | None, dict], now: datetime) -> int:
    """Store ``raw`` as the snapshot of ``month``; rows that exist already are kept. Flushes."""
    written = 0
    for org_id, figures in raw.items():
        scope = "cluster" if org_id is CLUSTER else f"org:{org_id}"
        try:
            # A savepoint per row: a concurrent run that stored the same row first wins.
            with db.session.begin_nested():
                db.session.add(
                    IndicatorSnapshot(
                        month=month.name,
                        scope=scope,
                        organization_id=org_id,
                        data=json.dumps(figures, sort_keys=True),
                        taken_at=now,
                    )
                )
            written += 1
        except IntegrityError:
            continue
    return written


def take_snapshot(now: datetime, month: str | None = None) -> tuple[Period, int]:
    """Snapshot ``month`` (default: the previous month) once; a second run writes nothing.

    Only complete months are stored; the current month is always computed live.
    """
    period = parse_period(month) if month else previous_month(now)
    if period.kind != "month":
        raise DomainError("Snapshots are taken per month: write a month such as 2026-11.", "month")
    if period.end > now:
        raise DomainError(
            f"{period.name} is not over yet: its figures are computed live until it ends.", "month"
        )
    exists = db.session.scalar(
        select(IndicatorSnapshot.id).where(IndicatorSnapshot.month == period.name).limit(1)
    )
    if exists is not None:
        return period, 0
    return period, store_snapshot(period, raw_figures(period, now), now)
