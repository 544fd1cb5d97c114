"""The tool's RSA signing keys: created on first use, rotatable without breaking launches.

The newest active key signs (deep-linking responses, AGS/NRPS token requests). Rotating makes a
new key and retires the old one, which stays in the published JWKS for a grace period so a
platform that cached it, or a message signed just before the rotation, still verifies.
"""

from __future__ import annotations

from datetime import timedelta

from pylti1p3.dynamic_registration import generate_key_pair
from pylti1p3.registration import Registration
from sqlalchemy import or_, select

from lms.extensions import db
from lms.timeutil import utcnow

from .models import LtiToolKey

KEY_BITS = 2048
GRACE = timedelta(days=7)


def _new_key() -> LtiToolKey:
    private_pem, public_pem = generate_key_pair(KEY_BITS)
    jwk = dict(Registration.get_jwk(public_pem))
    key = LtiToolKey(kid=jwk["kid"], private_pem=private_pem, public_jwk=jwk)
    db.session.add(key)
    db.session.flush()
    return key


def signing_key() -> LtiToolKey:
    """The key that signs now (made on first use)."""
    key = db.session.scalar(
        select(LtiToolKey).where(LtiToolKey.retired_at.is_(None)).order_by(LtiToolKey.id.desc())
    )
    return key or _new_key()


def rotate_key(grace: timedelta = GRACE) -> LtiToolKey:
    """Start signing with a new key; the old ones stay published for ``grace``."""
    now = utcnow()
    for old in db.session.scalars(select(LtiToolKey).where(LtiToolKey.retired_at.is_(None))):
        old.retired_at = now
        old.retire_after = now + grace
    return _new_key()


def published_keys() -> list[dict]:
    """The public JWKs to publish: the signing key and retired keys still in their grace."""
    now = utcnow()
    signing_key()
    rows = db.session.scalars(
        select(LtiToolKey)
        .where(or_(LtiToolKey.retired_at.is_(None), LtiToolKey.retire_after > now))
        .order_by(LtiToolKey.id.desc())
    )
    return [dict(row.public_jwk) for row in rows]
