"""Site-wide settings stored as key/value rows (``SiteSetting``), with typed helpers."""

from __future__ import annotations

from sqlalchemy import select

from lms.extensions import db
from lms.models import Organization, SiteSetting

SELF_REGISTRATION = "self_registration"
#: comma-separated organization ids whose learner lists accept self-registered people
SELF_REGISTRATION_ORGS = "self_registration_orgs"


def get_setting(key: str, default: str = "") -> str:
    """The stored value of ``key``, or ``default`` when it was never set."""
    row = db.session.get(SiteSetting, key)
    return row.value if row is not None else default


def set_setting(key: str, value: str) -> None:
    """Store ``value`` under ``key`` (flushes; the caller commits)."""
    row = db.session.get(SiteSetting, key)
    if row is None:
        db.session.add(SiteSetting(key=key, value=value))
    else:
        row.value = value
    db.session.flush()


def self_registration_enabled() -> bool:
    """Whether anybody may create a learner account without an invitation."""
    return get_setting(SELF_REGISTRATION) == "1"


def self_registration_org_ids() -> set[int]:
    """Organizations open to self-registration."""
    raw = get_setting(SELF_REGISTRATION_ORGS)
    return {int(part) for part in raw.split(",") if part.strip().isdigit()}


def self_registration_orgs() -> list[Organization]:
    """Organizations a self-registered learner may join, by name (empty: none, an independent
    learner account)."""
    ids = self_registration_org_ids()
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Organization).where(Organization.id.in_(ids)).order_by(Organization.name)
        )
    )


def set_self_registration(enabled: bool, org_ids: set[int]) -> None:
    """Save whether self-registration is on and which organizations it opens."""
    set_setting(SELF_REGISTRATION, "1" if enabled else "0")
    set_setting(SELF_REGISTRATION_ORGS, ",".join(str(i) for i in sorted(org_ids)))
