"""The demo cluster: organizations and accounts (core), then each component's content."""

from __future__ import annotations

import functools

import click
from flask import current_app
from sqlalchemy import select

from lms.extensions import db
from lms.models import Department, Membership, Organization, Role, User
from lms.passwords import hash_password

DEMO_PASSWORD = "demo-pass-2026"

ORGANIZATIONS = [
    ("northfield", "Northfield University", "university",
     "A public university with engineering, statistics and logistics faculties."),
    ("acme", "Acme Manufacturing", "enterprise",
     "Precision parts for the automotive industry; three plants and a quality lab."),
    ("globex", "Globex Logistics", "enterprise",
     "Regional logistics operator running automated warehouses."),
    ("ril", "Regional Innovation Lab", "research",
     "Applied research centre for Industry 4.0, sensors and data."),
]  # fmt: skip

DEPARTMENTS = {"acme": ["Production", "Quality"], "globex": ["Warehouse", "Transport"]}

# email, name, site admin, [(org slug, role, department)]
ACCOUNTS = [
    ("admin@cluster.demo", "Ada Admin", True, []),
    ("trainer@uni.demo", "Dr. Tomas Novak", False, [("northfield", "trainer", None)]),
    ("student@uni.demo", "Sara Lind", False, [("northfield", "learner", None)]),
    ("trainer@acme.demo", "Priya Raman", False, [("acme", "trainer", None)]),
    ("hr@acme.demo", "Henrik Olsen", False, [("acme", "hr", None)]),
    ("employee@acme.demo", "Marco Rossi", False, [("acme", "learner", "Production")]),
    ("employee2@acme.demo", "Lena Vogel", False, [("acme", "learner", "Quality")]),
    ("hr@globex.demo", "Grace Kim", False, [("globex", "hr", None)]),
    ("employee@globex.demo", "Omar Haddad", False, [("globex", "learner", "Warehouse")]),
    # Beyond the original list: Globex's trainer signs off the co-designed warehouse course,
    # and Acme's organization admin shows the members and invitations pages.
    ("trainer@globex.demo", "Kenji Sato", False, [("globex", "trainer", None)]),
    ("orgadmin@acme.demo", "Nadia Petrova", False, [("acme", "org_admin", None)]),
]


@functools.cache
def _password_hash(password: str) -> str:
    # Argon2id is deliberately slow (~30 ms); demo accounts share one password, so hash it once
    # per process instead of once per generated employee. Each hash still has its own salt
    # across processes; the demo password is public anyway.
    return hash_password(password)


def get_or_create_user(email: str, name: str, password: str = DEMO_PASSWORD, **kw) -> User:
    """Find a user by email or create one with ``password``."""
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name, **kw)
        user.password_hash = _password_hash(password)
        db.session.add(user)
        db.session.flush()
    return user


def ensure_membership(
    user: User, org: Organization, role: str, department: Department | None = None
) -> Membership:
    """Demo data: give the user this role in the organization unless held."""
    m = db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.organization_id == org.id,
            Membership.role == role,
        )
    )
    if m is None:
        m = Membership(user=user, organization=org, role=role, department=department)
        db.session.add(m)
        db.session.flush()
    return m


def seed_core() -> None:
    """Organizations, departments and the demo accounts (idempotent)."""
    orgs: dict[str, Organization] = {}
    for slug, name, kind, description in ORGANIZATIONS:
        org = db.session.scalar(select(Organization).where(Organization.slug == slug))
        if org is None:
            org = Organization(slug=slug, name=name, kind=kind, description=description)
            db.session.add(org)
            db.session.flush()
        orgs[slug] = org
    depts: dict[tuple[str, str], Department] = {}
    for slug, names in DEPARTMENTS.items():
        for dname in names:
            dept = db.session.scalar(
                select(Department).where(
                    Department.organization_id == orgs[slug].id, Department.name == dname
                )
            )
            if dept is None:
                dept = Department(organization=orgs[slug], name=dname)
                db.session.add(dept)
                db.session.flush()
            depts[(slug, dname)] = dept
    for email, name, admin, memberships in ACCOUNTS:
        user = get_or_create_user(email, name, is_site_admin=admin)
        for slug, role, dname in memberships:
            ensure_membership(
                user, orgs[slug], Role(role), depts.get((slug, dname)) if dname else None
            )


def seed_steps() -> list[tuple[int, str, object]]:
    """Every seed step in order: core first, then components by ``seed_order``, then late core
    steps registered in ``app.extensions['lms.seed_steps']`` (progress needs the courses)."""
    steps: list[tuple[int, str, object]] = [(0, "organizations and accounts", seed_core)]
    for component in current_app.extensions.get("lms.components", []):
        steps.append((component.seed_order, component.name, component.seed_demo))
    steps.extend(current_app.extensions.get("lms.seed_steps", []))
    return sorted(steps, key=lambda s: s[0])


def seed_demo(echo=click.echo) -> None:
    """Create the demo cluster, idempotently, in one transaction."""
    for _order, name, step in seed_steps():
        echo(f"Seeding {name}...")
        step()
        db.session.flush()
    db.session.commit()
