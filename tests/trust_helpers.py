"""Helpers for the certificate, ledger, xAPI and API tests: a learner who completes a course."""

from __future__ import annotations

from sqlalchemy import select

from lms.domain.models import Activity, Course
from lms.extensions import db
from lms.models import User
from lms.progress.services import record_activity_event
from tests.factories import PASSWORD, enrol, make_course, make_module, make_org

_HASH: list[str] = []


def make_user(email: str, org=None, role: str = "learner", name: str | None = None, **kw) -> User:
    """Like ``factories.make_user`` but hashing the password once per run (hashes are slow)."""
    from lms.models import Membership

    if not _HASH:
        probe = User(email="probe@x", name="probe")
        probe.set_password(PASSWORD)
        _HASH.append(probe.password_hash)
    user = User(email=email, name=name or email.split("@")[0].title(), **kw)
    user.password_hash = _HASH[0]
    db.session.add(user)
    db.session.flush()
    if org is not None:
        db.session.add(Membership(user_id=user.id, organization_id=org.id, role=role))
        db.session.flush()
        db.session.refresh(user)
    return user


def make_activity(course: Course, title: str = "Read the brief", rule: str = "viewed", **kw):
    module = course.modules[0] if course.modules else make_module(course)
    activity = Activity(
        type="activity",
        course_id=course.id,
        module_id=module.id,
        title=title,
        position=len(module.activities),
        completion_rule=rule,
        **kw,
    )
    db.session.add(activity)
    db.session.flush()
    db.session.refresh(course)
    return activity


def graded_course(orgs, title: str = "Quality Basics", pass_mark: float = 60.0) -> Course:
    """A published course with one graded activity (passed at ``pass_mark``)."""
    course = make_course(orgs, title=title)
    make_activity(course, "Final quiz", rule="passed", pass_mark=pass_mark)
    return course


def complete(user: User, course: Course, grade: float = 87.5) -> None:
    """Enrol ``user`` if needed and pass every activity of ``course`` with ``grade``."""
    from lms.domain.models import Enrolment

    if not db.session.scalar(
        select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.course_id == course.id)
    ):
        enrol(user, course)
    for activity in db.session.scalars(select(Activity).where(Activity.course_id == course.id)):
        record_activity_event(user, activity, "graded", grade=grade)


def cluster():
    """Two enterprises and a university, with HR, admins and employees; returns a dict."""
    uni = make_org("uni-t", kind="university", name="Northfield Test University")
    acme = make_org("acme-t", kind="enterprise", name="Acme Test")
    globex = make_org("globex-t", kind="enterprise", name="Globex Test")
    people = {
        "uni": uni,
        "acme": acme,
        "globex": globex,
        "employee": make_user("emp@acme.test", acme, name="Marco Rossi"),
        "employee2": make_user("emp2@acme.test", acme, name="Lena Vogel"),
        "hr": make_user("hr@acme.test", acme, role="hr", name="Henrik Olsen"),
        "acme_admin": make_user("admin@acme.test", acme, role="org_admin"),
        "uni_admin": make_user("admin@uni.test", uni, role="org_admin"),
        "globex_hr": make_user("hr@globex.test", globex, role="hr"),
        "globex_employee": make_user("emp@globex.test", globex),
        "site_admin": make_user("root@cluster.test", is_site_admin=True),
    }
    people["course"] = graded_course([uni, acme], title="Statistical Process Control")
    return people


def make_program(org, courses, user, validity_months=None, name="Digital Quality Retraining"):
    """A program of ``courses`` and a completed assignment of it to ``user``."""
    from lms.progress.models import Program, ProgramAssignment, ProgramCourse
    from lms.timeutil import utcnow

    program = Program(
        organization_id=org.id,
        name=name,
        purpose="retraining",
        description="Quality tools for the digital plant.",
        validity_months=validity_months,
    )
    db.session.add(program)
    db.session.flush()
    for i, course in enumerate(courses):
        db.session.add(ProgramCourse(program_id=program.id, course_id=course.id, position=i))
    now = utcnow()
    assignment = ProgramAssignment(
        program_id=program.id,
        organization_id=org.id,
        user_id=user.id,
        status="completed",
        progress=100.0,
        completed_at=now,
        cycle=1,
    )
    db.session.add(assignment)
    db.session.flush()
    db.session.refresh(program)
    return program, assignment


def login(client, email: str) -> None:
    """Log ``client`` in as ``email`` (demo password), logging out whoever was logged in."""
    client.post("/auth/logout")
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD})
    assert response.status_code in (302, 303), response.status_code
