"""Small factory helpers for tests: rows built directly with the models (no views involved).

Every helper flushes (so ids exist) and never commits; call ``db.session.commit()`` in the test
before using the client. Add new helpers at the end; do not change existing signatures.
"""

from __future__ import annotations

import itertools
from typing import Any

from lms.domain.models import Course, CoursePartner, CourseStatus, Enrolment, Module
from lms.extensions import db
from lms.models import Membership, Organization, User

PASSWORD = "demo-pass-2026"
_seq = itertools.count(1)


def make_org(slug: str | None = None, kind: str = "university", **kw: Any) -> Organization:
    n = next(_seq)
    slug = slug or f"org-{n}"
    org = Organization(slug=slug, name=kw.pop("name", f"Organization {slug}"), kind=kind, **kw)
    db.session.add(org)
    db.session.flush()
    return org


def make_user(
    email: str | None = None,
    org: Organization | None = None,
    role: str = "learner",
    password: str = PASSWORD,
    **kw: Any,
) -> User:
    n = next(_seq)
    user = User(email=email or f"user{n}@example.test", name=kw.pop("name", f"User {n}"), **kw)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    if org is not None:
        db.session.add(Membership(user_id=user.id, organization_id=org.id, role=role))
        db.session.flush()
        db.session.refresh(user)
    return user


def make_course(
    orgs: list[Organization] | Organization,
    status: str = CourseStatus.PUBLISHED,
    slug: str | None = None,
    **kw: Any,
) -> Course:
    n = next(_seq)
    course = Course(
        slug=slug or f"course-{n}",
        title=kw.pop("title", f"Course {n}"),
        status=status,
        **kw,
    )
    db.session.add(course)
    db.session.flush()
    for org in orgs if isinstance(orgs, list) else [orgs]:
        db.session.add(CoursePartner(course_id=course.id, organization_id=org.id))
    db.session.flush()
    db.session.refresh(course)
    return course


def make_module(course: Course, title: str = "Module", position: int = 0) -> Module:
    module = Module(course_id=course.id, title=title, position=position)
    db.session.add(module)
    db.session.flush()
    return module


def enrol(user: User, course: Course, status: str = "active") -> Enrolment:
    enrolment = Enrolment(user_id=user.id, course_id=course.id, status=status)
    db.session.add(enrolment)
    db.session.flush()
    return enrolment


def make_lesson(module: Module, title: str = "Lesson", body: str = "", author: User | None = None):
    """A lesson with ``body`` saved as revision 1 (as the authoring form would)."""
    from courses.lesson.models import Lesson
    from courses.lesson.services import save_lesson_body

    lesson = Lesson(course_id=module.course_id, module_id=module.id, title=title)
    db.session.add(lesson)
    db.session.flush()
    save_lesson_body(lesson, body, author, mark_edited=False)
    return lesson
