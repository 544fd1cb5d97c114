"""Signed, expiring tokens for password reset.

The token embeds a fingerprint of the current password hash, so it stops working the moment the
password changes: single use without a table.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from lms.extensions import db
from lms.models import User


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def _fingerprint(user: User) -> str:
    return user.credentials_fingerprint


def make_reset_token(user: User) -> str:
    """Signed password-reset token, void once the password changes."""
    return _serializer().dumps({"u": user.id, "f": _fingerprint(user)})


def load_reset_token(token: str) -> User | None:
    """User of a valid, unexpired password-reset token, else None."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_SECONDS"])
    except BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if user is None or not user.active or data.get("f") != _fingerprint(user):
        return None
    return user


# --- self-registration: the mailed link carries who registers, signed (no table needed) ---------
def _registration_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="self-registration")


def make_registration_token(email: str, name: str, organization_slug: str) -> str:
    """Signed token confirming a self-registration's email address."""
    return _registration_serializer().dumps({"e": email, "n": name, "o": organization_slug})


def load_registration_token(token: str) -> dict[str, str] | None:
    """``{"e": email, "n": name, "o": organization slug}`` from a valid, unexpired link."""
    if not token or len(token) > 1000:
        return None
    try:
        data = _registration_serializer().loads(
            token, max_age=current_app.config["REGISTRATION_SECONDS"]
        )
    except BadSignature:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in "eno"):
        return None
    return data
