"""Small factory helpers for tests: rows built directly with the models (no views involved).

Every helper flushes (so ids exist) and never commits; call ``db.session.commit()`` in the test
before using the client. Add new helpers at the end; do not change existing signatures.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

from lms.domain.models import Course, CoursePartner, CourseStatus, Enrolment, Module
from lms.extensions import db
from lms.models import Membership, Organization, User
from lms.passwords import hash_password

PASSWORD = "demo-pass-2026"
_seq = itertools.count(1)


@functools.cache
def _password_hash(password: str) -> str:
    return hash_password(password)


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
    # The real method (Argon2id), hashed once per password and run: a cheaper method would be
    # upgraded at each test's first login (lms.passwords.needs_rehash).
    user.password_hash = _password_hash(password)
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


def make_question(course: Course, key: str, qtype: str = "single", **fields: Any):
    """A bank question; choice questions default to options A (correct) and B."""
    from courses.quiz.bank import create_question

    data: dict[str, Any] = {"key": key, "type": qtype, "prompt": f"Question {key}?", "points": 1}
    if qtype in ("single", "multiple"):
        data["options"] = [{"text": "A", "correct": True}, {"text": "B", "correct": False}]
    elif qtype == "true_false":
        data["answer"] = True
    elif qtype == "numeric":
        data.update(answer=1.0, tolerance=0.0)
    elif qtype == "short":
        data["accepted"] = ["yes"]
    data.update(fields)
    return create_question(course, data, mark_edited=False)


def make_quiz(module: Module, title: str = "Quiz", **settings: Any):
    """A quiz in ``module``; ``settings`` are Quiz columns (question_keys, attempts_allowed...)."""
    from courses.quiz.models import Quiz

    values: dict[str, Any] = {"selection": "fixed", "question_keys": [], "shuffle": False,
                              "feedback_mode": "immediate", "pass_mark": 50.0}  # fmt: skip
    values.update(settings)
    quiz = Quiz(course_id=module.course_id, module_id=module.id, title=title, **values)
    db.session.add(quiz)
    db.session.flush()
    return quiz


def make_lab(
    module: Module,
    title: str = "Lab: add two numbers",
    language: str = "python",
    starter: str = "a, b = map(int, input().split())\n",
    reference: str = "a, b = map(int, input().split())\nprint(a + b)\n",
    tests: list[dict[str, Any]] | None = None,
    **kw: Any,
):
    """A lab (completion rule "passed") with I/O tests: by default one visible, one hidden."""
    from virtual_labs.models import Lab, LabTest

    source = {
        "python": "main.py",
        "c": "main.c",
        "cpp": "main.cpp",
        "javascript": "main.js",
        "java": "Main.java",
    }
    name = source[language]
    lab = Lab(
        course_id=module.course_id,
        module_id=module.id,
        title=title,
        language=language,
        instructions=kw.pop("instructions", "Read two integers and print their **sum**."),
        starter_files={name: starter},
        reference_files={name: reference},
        completion_rule=kw.pop("completion_rule", "passed"),
        pass_mark=kw.pop("pass_mark", 100.0),
        position=len(module.activities),
        **kw,
    )
    if tests is None:
        tests = [
            {"name": "Small numbers", "stdin": "2 3\n", "expected": "5\n"},
            {"name": "Negative numbers", "stdin": "-4 1\n", "expected": "-3\n", "hidden": True},
        ]
    lab.tests = [LabTest(position=i, **t) for i, t in enumerate(tests)]
    db.session.add(lab)
    db.session.flush()
    return lab


def make_lab_class(learners: int = 3):
    """An organization's course with one lab and ``learners`` enrolled in it; (org, lab, users)."""
    org = make_org()
    course = make_course(org)
    lab = make_lab(make_module(course))
    users = [make_user(org=org) for _ in range(learners)]
    for user in users:
        enrol(user, course)
    return org, lab, users
