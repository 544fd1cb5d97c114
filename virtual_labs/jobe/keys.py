"""Jobe API keys: issued by the site admin, hashed, each with an hourly run budget.

Services flush, never commit (the view commits).
"""

from __future__ import annotations

import hashlib
import secrets
import time

from sqlalchemy import case, select, update

from lms.errors import Conflict, DomainError
from lms.extensions import db
from lms.models import User
from lms.timeutil import utcnow

from .models import JobeApiKey

KEY_PREFIX = "jobe_"
MAX_HOURLY_LIMIT = 1_000_000


def hash_key(secret: str) -> str:
    """The SHA-256 kept in place of a key."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_key(name: str, hourly_limit: int, by: User) -> tuple[JobeApiKey, str]:
    """A new key; returns the row and the secret, which is shown once and never stored."""
    name = (name or "").strip()
    if not name:
        raise DomainError("Enter a name that says which CodeRunner site uses the key.", "name")
    if len(name) > 100:
        raise DomainError("Keep the name under 100 characters.", "name")
    if not isinstance(hourly_limit, int) or not 1 <= hourly_limit <= MAX_HOURLY_LIMIT:
        raise DomainError(
            f"The hourly limit must be between 1 and {MAX_HOURLY_LIMIT:,}.", "hourly_limit"
        )
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = JobeApiKey(
        name=name,
        key_hash=hash_key(secret),
        prefix=secret[: len(KEY_PREFIX) + 6],
        hourly_limit=hourly_limit,
        created_by_id=by.id,
    )
    db.session.add(key)
    db.session.flush()
    return key, secret


def revoke_key(key: JobeApiKey) -> None:
    """Stop a key from working; runs in flight finish."""
    if key.revoked_at is not None:
        raise Conflict("This key has already been revoked.")
    key.revoked_at = utcnow()
    db.session.flush()


def find_key(secret: str | None) -> JobeApiKey | None:
    """The active key for ``secret``; None when missing, unknown or revoked."""
    if not secret or not secret.startswith(KEY_PREFIX) or len(secret) > 200:
        return None
    key = db.session.scalar(select(JobeApiKey).where(JobeApiKey.key_hash == hash_key(secret)))
    if key is None or key.revoked_at is not None:
        return None
    return key


def current_hour() -> int:
    """Hours since the epoch: the window a key's budget counts in."""
    return int(time.time() // 3600)


def spend_run(key_id: int, hour: int | None = None) -> bool:
    """Count one run against the key's budget for this hour; False when it is spent.

    One conditional UPDATE checks and spends, so concurrent requests never overspend.
    """
    hour = current_hour() if hour is None else hour
    same_hour = JobeApiKey.window_start == hour
    result = db.session.execute(
        update(JobeApiKey)
        .where(
            JobeApiKey.id == key_id,
            JobeApiKey.revoked_at.is_(None),
            (~same_hour) | (JobeApiKey.window_runs < JobeApiKey.hourly_limit),
        )
        .values(
            window_runs=case((same_hour, JobeApiKey.window_runs + 1), else_=1),
            window_start=hour,
            runs_total=JobeApiKey.runs_total + 1,
            last_used_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def seconds_to_next_hour() -> int:
    """For Retry-After when a key's budget is spent."""
    return 3600 - int(time.time() % 3600)
