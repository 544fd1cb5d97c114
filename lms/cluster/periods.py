"""Reporting periods: a month ("2026-11"), a quarter ("2026-Q4") or a year ("2026")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from lms.errors import DomainError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class Period:
    """A half-open range of months [start, end) with the name people type."""

    name: str
    kind: str  # "month" | "quarter" | "year"
    start: datetime
    end: datetime

    @property
    def months(self) -> list[str]:
        """Every month of the period as "YYYY-MM"."""
        out, year, month = [], self.start.year, self.start.month
        while datetime(year, month, 1) < self.end:
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def contains(self, moment: datetime) -> bool:
        """Whether ``moment`` falls in the period."""
        return self.start <= moment < self.end


def _month_start(year: int, month: int) -> datetime:
    return datetime(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def _check_year(year: int, text: str) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise DomainError(
            f"{text!r} is not a period we report on: years run from {FIRST_YEAR} to {LAST_YEAR}.",
            "period",
        )


def parse_period(text: str | None) -> Period:
    """The period named by ``text``; a :class:`DomainError` that says the accepted forms."""
    raw = (text or "").strip()
    if m := _MONTH.match(raw):
        year, month = int(m[1]), int(m[2])
        _check_year(year, raw)
        if not 1 <= month <= 12:
            raise DomainError(
                f"{raw!r} is not a month: months run from 01 to 12 (for example 2026-11).",
                "period",
            )
        return Period(raw, "month", _month_start(year, month), _month_start(year, month + 1))
    if m := _QUARTER.match(raw):
        year, quarter = int(m[1]), int(m[2])
        _check_year(year, raw)
        first = 3 * (quarter - 1) + 1
        return Period(
            f"{year}-Q{quarter}",
            "quarter",
            _month_start(year, first),
            _month_start(year, first + 3),
        )
    if m := _YEAR.match(raw):
        year = int(m[1])
        _check_year(year, raw)
        return Period(raw, "year", datetime(year, 1, 1), datetime(year + 1, 1, 1))
    raise DomainError(
        f"{raw!r} is not a period. Write a month (2026-11), a quarter (2026-Q4) or a year (2026).",
        "period",
    )


def month_of(moment: datetime) -> Period:
    """The month that contains ``moment``."""
    return parse_period(f"{moment.year:04d}-{moment.month:02d}")


def last_months(moment: datetime, count: int) -> list[Period]:
    """The ``count`` months up to and including the one that contains ``moment``, oldest first."""
    out = []
    year, month = moment.year, moment.month
    for _ in range(count):
        out.append(parse_period(f"{year:04d}-{month:02d}"))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(out))


def previous_month(now: datetime) -> Period:
    """The last complete month before ``now``."""
    current = month_of(now)
    year, month = current.start.year, current.start.month
    year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return parse_period(f"{year:04d}-{month:02d}")
