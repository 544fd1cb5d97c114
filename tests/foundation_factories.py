"""Small factories for the foundation tests (accounts, organizations, admin pages)."""

from __future__ import annotations

import functools
import re

from sqlalchemy import func, select

from lms.extensions import db
from lms.models import Department, Membership, Organization, OutboundMail, User

PASSWORD = "demo-pass-2026"


@functools.cache
def password_hash(password: str) -> str:
    """Password hashes are slow on purpose; hashing each test password once keeps the suite fast."""
    probe = User(email="", name="")
    probe.set_password(password)
    return probe.password_hash


def make_org(slug: str = "testorg", name: str | None = None, kind: str = "enterprise"):
    org = Organization(slug=slug, name=name or slug.title(), kind=kind, description="")
    db.session.add(org)
    db.session.flush()
    return org


def make_department(org: Organization, name: str) -> Department:
    dept = Department(organization=org, name=name)
    db.session.add(dept)
    db.session.flush()
    return dept


def make_user(
    email: str,
    name: str = "Test Person",
    roles: tuple = (),
    site_admin: bool = False,
    password: str = PASSWORD,
    department: Department | None = None,
) -> User:
    """A user with ``roles`` given as (organization, role) pairs."""
    user = User(email=email, name=name, is_site_admin=site_admin)
    user.password_hash = password_hash(password)
    db.session.add(user)
    db.session.flush()
    for org, role in roles:
        db.session.add(
            Membership(
                user_id=user.id,
                organization_id=org.id,
                role=role,
                department_id=department.id if department else None,
            )
        )
    db.session.flush()
    return user


def org_by_slug(slug: str) -> Organization:
    return db.session.scalar(select(Organization).where(Organization.slug == slug))


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def last_mail_to(email: str) -> OutboundMail | None:
    return db.session.scalar(
        select(OutboundMail).where(OutboundMail.to == email).order_by(OutboundMail.id.desc())
    )


def link_in(body: str, path: str) -> str:
    """The path of the first link in a mail body that contains ``path``."""
    match = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"[^\s]+)", body)
    assert match, f"no {path} link in mail body: {body!r}"
    return match.group(1)


def login(client, email: str, password: str = PASSWORD, **kw):
    return client.post("/auth/login", data={"email": email, "password": password}, **kw)
