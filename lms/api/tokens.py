"""Create, revoke and check API tokens (services: flush, never commit)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from lms.api.models import ApiToken
from lms.errors import Conflict, DomainError
from lms.extensions import db
from lms.models import Organization, User
from lms.timeutil import utcnow

TOKEN_PREFIX = "ecl_"
MAX_TOKENS_PER_ORG = 50
LAST_USED_GRANULARITY = 60  # seconds: do not write on every call


def hash_token(token: str) -> str:
    """SHA-256 hex digest under which an API token secret is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(org: Organization, name: str, by: User) -> tuple[ApiToken, str]:
    """A new read-only token for ``org``; returns the row and the secret (shown once)."""
    name = (name or "").strip()
    if not name:
        raise DomainError("Enter a name that says which system uses the token.", field="name")
    if len(name) > 100:
        raise DomainError("Keep the name under 100 characters.", field="name")
    active = db.session.scalar(
        select(db.func.count(ApiToken.id)).where(
            ApiToken.organization_id == org.id, ApiToken.revoked_at.is_(None)
        )
    )
    if active >= MAX_TOKENS_PER_ORG:
        raise Conflict(f"{org.name} already has {MAX_TOKENS_PER_ORG} active tokens; revoke one.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        organization_id=org.id,
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        scope="read",
        created_by_id=by.id,
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


def revoke_token(token: ApiToken, by: User) -> None:
    """Revoke an API token, recording who did it; refuses a second revocation."""
    if token.revoked_at is not None:
        raise Conflict("This token has already been revoked.")
    token.revoked_at = utcnow()
    token.revoked_by_id = by.id
    db.session.flush()


def authenticate(secret: str | None) -> ApiToken | None:
    """The active token for ``secret``, its last use recorded; None if unknown or revoked."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None or token.revoked_at is not None:
        return None
    now = utcnow()
    if (
        token.last_used_at is None
        or (now - token.last_used_at).total_seconds() > LAST_USED_GRANULARITY
    ):
        token.last_used_at = now
        db.session.flush()
    return token


def organization_tokens(org: Organization) -> list[ApiToken]:
    """The organization's tokens: active ones first, then the newest first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.organization_id == org.id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
        )
    )
