"""Rows for the progress tests, created directly (no views): organizations, people, courses."""

from __future__ import annotations

from itertools import count

from lms.domain.models import Activity, Course, CoursePartner, Module
from lms.extensions import db
from lms.models import Department, Membership, Organization, User

_seq = count(1)
PASSWORD = "demo-pass-2026"
_HASH: list[str] = []


def _password_hash() -> str:
    """Password hashes are slow on purpose: hash the test password once per run."""
    if not _HASH:
        probe = User(email="probe", name="probe")
        probe.set_password(PASSWORD)
        _HASH.append(probe.password_hash)
    return _HASH[0]


def make_org(slug: str, kind: str = "enterprise", departments=("Production", "Quality")):
    org = Organization(slug=slug, name=slug.title() + " Inc", kind=kind)
    db.session.add(org)
    db.session.flush()
    for name in departments:
        db.session.add(Department(organization_id=org.id, name=name))
    db.session.flush()
    return org


def department(org: Organization, name: str) -> Department:
    return next(d for d in org.departments if d.name == name)


def make_user(
    email: str | None = None,
    name: str | None = None,
    org: Organization | None = None,
    role: str = "learner",
    dept: str | None = None,
    admin: bool = False,
) -> User:
    n = next(_seq)
    user = User(email=email or f"user{n}@test.demo", name=name or f"User {n}", is_site_admin=admin)
    user.password_hash = _password_hash()
    db.session.add(user)
    db.session.flush()
    if org is not None:
        d = department(org, dept) if dept else None
        db.session.add(
            Membership(
                user_id=user.id,
                organization_id=org.id,
                role=role,
                department_id=d.id if d else None,
            )
        )
        db.session.flush()
    return user


def make_course(
    slug: str,
    activities=(("viewed", None, 1.0, True),),
    *,
    partner: Organization | None = None,
    status: str = "published",
    visibility: str = "cluster",
    mode: str = "all",
    count_: int | None = None,
    min_grade: float | None = None,
) -> Course:
    """A course with one module; ``activities`` = (rule, pass_mark, weight, required) tuples."""
    course = Course(
        slug=slug,
        title=slug.replace("-", " ").title(),
        status=status,
        visibility=visibility,
        completion_mode=mode,
        completion_count=count_,
        completion_min_grade=min_grade,
    )
    db.session.add(course)
    db.session.flush()
    if partner is not None:
        db.session.add(CoursePartner(course_id=course.id, organization_id=partner.id))
    module = Module(course_id=course.id, title="Module 1", position=0)
    db.session.add(module)
    db.session.flush()
    for i, (rule, mark, weight, required) in enumerate(activities):
        db.session.add(
            Activity(
                type="activity",
                course_id=course.id,
                module_id=module.id,
                title=f"Activity {i + 1}",
                position=i,
                completion_rule=rule,
                pass_mark=mark,
                weight=weight,
                required=required,
            )
        )
    db.session.flush()
    return course


def activities_of(course: Course) -> list[Activity]:
    from sqlalchemy import select

    return list(
        db.session.scalars(
            select(Activity).where(Activity.course_id == course.id).order_by(Activity.position)
        )
    )
