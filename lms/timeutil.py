"""Time helpers: every stored timestamp is naive UTC, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time as naive UTC (SQLite keeps no zone, so we never store one)."""
    return datetime.now(UTC).replace(tzinfo=None)
