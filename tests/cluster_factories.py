"""A small cluster for the cluster tests: a university, two enterprises, courses and progress in
June 2025 (a fixed past month, so tests do not depend on today's date)."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

from lms.api.tokens import create_token
from lms.extensions import db
from lms.progress.models import ActivityCompletion, CompletionState, CourseCompletion
from tests.factories import (
    enrol,
    make_course,
    make_lab,
    make_module,
    make_org,
    make_quiz,
    make_user,
)

JUNE = datetime(2025, 6, 10, 12, 0)
PERIOD = "2025-06"


def complete(user, course, when: datetime, grade: float = 80.0) -> CourseCompletion:
    """A completed course for ``user`` at ``when``."""
    row = CourseCompletion(
        user_id=user.id, course_id=course.id, state=CompletionState.COMPLETED, progress=100.0,
        grade=grade, completed_at=when, last_activity_at=when,
    )  # fmt: skip
    db.session.add(row)
    return row


def attempt(user, activity, when: datetime, passed: bool, grade: float | None = None):
    """A submitted attempt at ``activity`` (a lab or quiz)."""
    db.session.add(
        ActivityCompletion(
            user_id=user.id,
            activity_id=activity.id,
            course_id=activity.course_id,
            submitted_at=when,
            attempts=1,
            completed=passed,
            grade=grade,
        )  # fmt: skip
    )


def cluster_world(app) -> SimpleNamespace:
    """Uni (6 students), Acme (3 employees, an HR manager), Globex (7 employees, HR)."""
    with app.app_context():
        uni = make_org("uni", "university", name="Northgate University")
        acme = make_org("acme", "enterprise", name="Acme Works")
        globex = make_org("globex", "enterprise", name="Globex Freight")
        make_user("admin@cluster.test", is_site_admin=True)
        trainer = make_user("trainer@uni.test", uni, "trainer")
        acme_hr = make_user("hr@acme.test", acme, "hr")
        globex_hr = make_user("hr@globex.test", globex, "hr")
        students = [make_user(f"s{i}@uni.test", uni) for i in range(6)]
        acme_people = [make_user(f"e{i}@acme.test", acme) for i in range(3)]
        globex_people = [make_user(f"g{i}@globex.test", globex) for i in range(7)]
        for user in [trainer, acme_hr, globex_hr, *students, *acme_people, *globex_people]:
            for m in user.memberships:
                m.created_at = JUNE - timedelta(days=100)
        course = make_course([uni, acme], title="Sensors 101")
        course.created_at = JUNE - timedelta(days=200)
        solo = make_course(uni, title="Statistics")
        module = make_module(course)
        lab = make_lab(module)
        quiz = make_quiz(module)
        start = JUNE - timedelta(days=30)
        for user in [*students, *acme_people, *globex_people]:
            e = enrol(user, course)
            e.enrolled_at = start
        # June: 4 students, 2 Acme and 5 Globex people complete; days to complete = 30.
        for user in [*students[:4], *acme_people[:2], *globex_people[:5]]:
            complete(user, course, JUNE)
        for i, user in enumerate(students):
            attempt(user, lab, JUNE, passed=i < 3)
            attempt(user, quiz, JUNE, passed=True, grade=70.0 + i)
        db.session.flush()
        acme_token = create_token(acme, "BI", acme_hr)[1]
        db.session.commit()
        return SimpleNamespace(
            uni=uni.id, acme=acme.id, globex=globex.id, acme_token=acme_token,
            course=course.id, solo=solo.id, admin="admin@cluster.test",
        )  # fmt: skip


def login(client, email: str) -> None:
    """Log ``email`` in (the factories' password)."""
    response = client.post("/auth/login", data={"email": email, "password": "demo-pass-2026"})
    assert response.status_code in (302, 303), response.data[:300]
