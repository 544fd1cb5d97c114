"""Failed-login throttling and rate limits, with counters in the database so every worker shares them.

Login failures are counted per *account and client address together*. After
``LOGIN_MAX_FAILURES`` failures that pair is locked for a delay that doubles with each lockout
(``LOGIN_BASE_LOCK_SECONDS``: 30 s, 60 s, 120 s ...) up to ``LOGIN_MAX_LOCK_SECONDS`` (15 min);
a good password clears the pair. So a guesser is slowed down on the account it attacks, but:

- other people behind the same address (a campus NAT, the TLS proxy) are not locked out;
- the account's owner logging in from elsewhere is not locked out;
- and on a browser where the owner logged in before (a signed "known device" cookie), their
  attempts count on their own, so a guesser on the same address cannot lock them out either.

``rate_limit`` counts requests per key in fixed windows (self-registration, password reset mails).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select

from lms.extensions import db
from lms.models import LoginThrottle
from lms.timeutil import utcnow

DEVICE_COOKIE = "known_device"
DEVICE_DAYS = 365


def _key(*parts: str) -> str:
    # Hashed: an email plus an IPv6 address can exceed the column, and the table needs no clear text.
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def limit_key(kind: str, value: str) -> str:
    """The key of a rate limit, e.g. ``limit_key("reset-mail", email)``."""
    return f"{kind}:" + _key(value)


def login_key(email: str, address: str) -> str:
    """The throttle key of one account tried from one client address."""
    return "login:" + _key(email, address)


def device_key(email: str, device_cookie: str | None) -> str | None:
    """The throttle key of a browser where ``email`` logged in before (None: unknown browser)."""
    if not device_cookie:
        return None
    try:
        data = _device_serializer().loads(device_cookie, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("e") != _key(email):
        return None
    return "device:" + _key(email, str(data.get("n")))


def device_cookie_value(email: str) -> str:
    """A signed cookie value that marks this browser as one ``email`` logged in from."""
    return _device_serializer().dumps({"e": _key(email), "n": secrets.token_hex(8)})


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="known-device")


def _row(key: str) -> LoginThrottle | None:
    return db.session.scalar(select(LoginThrottle).where(LoginThrottle.key == key))


def seconds_locked(key: str) -> int:
    """How many seconds ``key`` is still locked (0 when it is not)."""
    row = _row(key)
    now = utcnow()
    if row is None or row.locked_until is None or row.locked_until <= now:
        return 0
    return int((row.locked_until - now).total_seconds()) + 1


def record_failure(key: str) -> None:
    """Count a failed login; lock the key when it reaches the limit."""
    cfg = current_app.config
    now = utcnow()
    _forget_stale(now)
    row = _row(key)
    if row is None:
        row = LoginThrottle(key=key, failures=0, lockouts=0)
        db.session.add(row)
    row.failures = (row.failures or 0) + 1
    row.updated_at = now
    if row.failures >= cfg["LOGIN_MAX_FAILURES"]:
        delay = min(
            cfg["LOGIN_MAX_LOCK_SECONDS"],
            cfg["LOGIN_BASE_LOCK_SECONDS"] * 2 ** min(row.lockouts or 0, 20),
        )
        row.locked_until = now + timedelta(seconds=delay)
        row.lockouts = (row.lockouts or 0) + 1
        row.failures = 0
    db.session.flush()


def _forget_stale(now) -> None:
    """Counters untouched for a day and not locked are forgotten (spraying leaves many rows)."""
    db.session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.updated_at < now - timedelta(days=1),
            (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < now),
        )
    )


def record_success(key: str) -> None:
    """A good password clears its key's counter and lock."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
    db.session.flush()


def rate_limit(keys: list[str], limit: int, window_seconds: int) -> int:
    """Count one request against each key; seconds to wait when any is over ``limit`` (0: go on).

    Fixed windows: ``failures`` is the count and ``locked_until`` the end of the current window.
    A refused request is not counted.
    """
    now = utcnow()
    _forget_stale(now)
    rows = {key: _row(key) for key in keys}
    wait = 0
    for row in rows.values():
        open_window = row is not None and row.locked_until and row.locked_until > now
        if open_window and row.failures >= limit:
            wait = max(wait, int((row.locked_until - now).total_seconds()) + 1)
    if wait:
        return wait
    for key, row in rows.items():
        if row is None:
            row = LoginThrottle(key=key, failures=0, lockouts=0)
            db.session.add(row)
        if row.locked_until is None or row.locked_until <= now:
            row.failures = 0
            row.locked_until = now + timedelta(seconds=window_seconds)
        row.failures += 1
        row.updated_at = now
    db.session.flush()
    return 0
