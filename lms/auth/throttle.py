"""Failed-login throttling per account and per client address.

After ``LOGIN_MAX_FAILURES`` failures a key is locked for a delay that doubles with each lockout
(30 s, 60 s, 120 s ... capped at a day). Counters live in the database so every worker shares them.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from lms.extensions import db
from lms.models import LoginThrottle
from lms.timeutil import utcnow

MAX_LOCK_SECONDS = 24 * 3600


def _row(key: str) -> LoginThrottle | None:
    return db.session.scalar(select(LoginThrottle).where(LoginThrottle.key == key))


def seconds_locked(keys: list[str]) -> int:
    """How many seconds any of ``keys`` is still locked (0 when none is)."""
    now = utcnow()
    worst = 0
    for key in keys:
        row = _row(key)
        if row and row.locked_until and row.locked_until > now:
            worst = max(worst, int((row.locked_until - now).total_seconds()) + 1)
    return worst


def record_failure(keys: list[str]) -> None:
    cfg = current_app.config
    now = utcnow()
    for key in keys:
        row = _row(key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, lockouts=0)
            db.session.add(row)
        row.failures = (row.failures or 0) + 1
        row.updated_at = now
        if row.failures >= cfg["LOGIN_MAX_FAILURES"]:
            delay = min(MAX_LOCK_SECONDS, cfg["LOGIN_BASE_LOCK_SECONDS"] * 2 ** (row.lockouts or 0))
            row.locked_until = now + timedelta(seconds=delay)
            row.lockouts = (row.lockouts or 0) + 1
            row.failures = 0
    db.session.flush()


def record_success(account_key: str) -> None:
    """A good password clears the account's counter (not the address's: one user's success must
    not reset an attacker's budget on the same network)."""
    row = _row(account_key)
    if row is not None:
        row.failures = 0
        row.lockouts = 0
        row.locked_until = None
        db.session.flush()
