"""Server-side login sessions: logging out ends the session and the remember-me cookie for good.

The signed session cookie and the remember-me cookie both carry ``<user id>:<password
fingerprint>:<session key>``; only the key's hash is stored. A copy of either cookie taken before
logout, or older than its lifetime, names a row that is ended or expired, so it opens nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from flask_login import login_user, logout_user
from sqlalchemy import bindparam, delete, or_, select
from sqlalchemy.orm import joinedload

from lms.extensions import db
from lms.models import LoginSession, Membership, User
from lms.timeutil import utcnow


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def lifetime(remember: bool) -> timedelta:
    """How long a login lasts on the server: remember-me (30 days), else ``SESSION_HOURS``."""
    cfg = current_app.config
    if remember:
        return cfg["REMEMBER_COOKIE_DURATION"]
    return timedelta(hours=int(cfg.get("SESSION_HOURS") or 24))


def start_session(user: User, remember: bool = False) -> LoginSession:
    """Log ``user`` in on this browser with a new server-side session (flushes, never commits)."""
    now = utcnow()
    # This account's ended and expired sessions are of no further use.
    db.session.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user.id,
            or_(LoginSession.ended_at.is_not(None), LoginSession.expires_at <= now),
        )
    )
    key = secrets.token_urlsafe(24)
    row = LoginSession(
        user_id=user.id,
        key_hash=_hash(key),
        remember=remember,
        created_at=now,
        expires_at=now + lifetime(remember),
    )
    db.session.add(row)
    db.session.flush()
    user.session_key = key
    login_user(user, remember=remember, duration=lifetime(True) if remember else None)
    return row


def end_session(user: User) -> None:
    """Log out: the server-side session ends, then the cookies are cleared."""
    if getattr(user, "session_key", ""):
        row = db.session.scalar(
            select(LoginSession).where(LoginSession.key_hash == _hash(user.session_key))
        )
        if row is not None and row.ended_at is None:
            row.ended_at = utcnow()
            db.session.flush()
    logout_user()


_STATEMENT = "lms.session_user_statement"


def register_session_figure(app: Flask, name: str, expression: Callable[[Any], Any]) -> None:
    """Load a per-user figure every page shows (the notifications badge) with the session user.

    ``expression(user_id)`` returns a scalar subquery correlated on the user's id column; its
    value is in ``user.session_figures[name]`` for the rest of the request, so the layout costs
    no query of its own. A feature that changes the figure during a request and then renders a
    page should query it again (none does: changes are POSTs that redirect).
    """
    app.extensions.setdefault("lms.session_figures", {})[name] = expression


def _session_user_statement(figures: dict):
    """The session user's query, built once per app (every signed-in request runs it)."""
    statement = current_app.extensions.get(_STATEMENT)
    if statement is None or statement[0] != list(figures):
        # The memberships (and their organizations) come in the same query: every page's
        # permission checks and the top bar read them; so do the figures of the layout (the
        # badge, the generations of the stored pages).
        query = (
            select(User, *(expr(User.id).label(name) for name, expr in figures.items()))
            .join(LoginSession, LoginSession.user_id == User.id)
            .where(
                User.id == bindparam("user_id"),
                LoginSession.key_hash == bindparam("key_hash"),
                LoginSession.ended_at.is_(None),
                LoginSession.expires_at > bindparam("now"),
            )
            .options(joinedload(User.memberships).joinedload(Membership.organization))
        )
        statement = current_app.extensions[_STATEMENT] = (list(figures), query)
    return statement[1]


def load_session_user(session_id: str) -> User | None:
    """The user a session or remember-me cookie names, if that login is still open (one query)."""
    raw_id, _, rest = (session_id or "").partition(":")
    fingerprint, _, key = rest.partition(":")
    if not raw_id.isascii() or not raw_id.isdigit() or len(raw_id) > 10 or not key:
        return None
    figures = current_app.extensions.get("lms.session_figures", {})
    parameters = {"user_id": int(raw_id), "key_hash": _hash(key), "now": utcnow()}
    row = db.session.execute(_session_user_statement(figures), parameters).unique().one_or_none()
    user = row[0] if row is not None else None
    # A deactivated account is logged out at its next request, not at its next login; so is
    # every session opened before the password last changed.
    if user is None or not user.active or fingerprint != user.credentials_fingerprint:
        return None
    user.session_key = key
    user.session_figures = dict(zip(figures, row[1:], strict=True))
    return user
