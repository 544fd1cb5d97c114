"""Learner pages cost a small, constant number of SQL statements (issue #13).

The counts are taken with a ``before_cursor_execute`` listener on the real database, first on the
demo course, then again after the course has grown (more modules, lessons, access conditions,
skills) and the learner has a history (every lesson viewed, finished quiz attempts, lab
submissions): they must not change, and no page may need more than ten.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from sqlalchemy import event, select

from lms.domain.models import ActivityCondition, Course
from lms.extensions import db
from lms.models import User
from tests.factories import make_lesson, make_module

COURSE = "python-for-production-data"
LEARNER = "student@uni.demo"
MAX_QUERIES = 10


@pytest.fixture
def app_config():
    """Every page rendered: these counts are the cost of a render (a stored page costs one
    statement, see tests/test_page_cache.py)."""
    return {"PAGE_CACHE_SECONDS": 0}


@contextmanager
def counting():
    """Count the SQL statements sent while the block runs (``.n``; ``.writes`` for DML)."""

    class Counter:
        n = 0
        writes: list[str] = []

    counter = Counter()
    counter.writes = []

    me = threading.get_ident()

    def count(_conn, _cursor, statement, *_args):
        if threading.get_ident() != me:
            return  # a lab worker thread polling its queue, not the request
        counter.n += 1
        if statement.lstrip().split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            counter.writes.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _first_of_each_type(app) -> tuple[dict[str, int], list[int]]:
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == COURSE))
        acts = [a for m in course.modules for a in m.activities]
        first: dict[str, int] = {}
        for act in acts:
            first.setdefault(act.type, act.id)
        return first, [a.id for a in acts if a.type == "lesson"]


def _pages(client, app) -> dict[str, str]:
    first, lessons = _first_of_each_type(app)
    for lesson in lessons:  # the quiz opens once the lessons before it are done
        client.get(f"/courses/{COURSE}/activities/{lesson}")
    started = client.post(f"/quiz/{first['quiz']}/start")
    assert started.status_code == 302
    return {
        "course": f"/courses/{COURSE}",
        "lesson": f"/courses/{COURSE}/activities/{first['lesson']}",
        "quiz start": f"/courses/{COURSE}/activities/{first['quiz']}",
        "quiz attempt": urlsplit(started.headers["Location"]).path,
        "lab": f"/courses/{COURSE}/activities/{first['lab']}",
        "lab page": f"/labs/{first['lab']}",
        "my learning": "/learning",
        "dashboard": "/dashboard",
        "catalog": "/courses/",
    }


def _counts(app, client, pages: dict[str, str]) -> dict[str, int]:
    counts = {}
    for name, path in pages.items():
        assert client.get(path).status_code == 200, name  # a first view is recorded once
        with app.app_context(), counting() as counter:
            response = client.get(path)
        assert response.status_code == 200, name
        counts[name] = counter.n
    return counts


def _grow_course_and_history(app, client) -> None:
    """Three more modules of five lessons, each locked behind the previous one; the learner
    opens all of them, finishes two quiz attempts and has graded lab submissions."""
    from courses.quiz.models import Quiz
    from virtual_labs.models import Lab, LabSubmission

    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == COURSE))
        learner = db.session.scalar(select(User).where(User.email == LEARNER))
        previous = None
        lessons = []
        for m in range(3):
            module = make_module(course, f"Extra module {m}", position=100 + m)
            for i in range(5):
                lesson = make_lesson(module, f"Extra lesson {m}.{i}", f"# Part {i}\n\n*More*")
                lessons.append(lesson.id)
                if previous is not None:
                    db.session.add(
                        ActivityCondition(
                            activity_id=lesson.id, kind="completed", required_activity_id=previous
                        )
                    )
                previous = lesson.id
        lab = db.session.scalar(select(Lab).where(Lab.course_id == course.id))
        for n in range(12):
            db.session.add(
                LabSubmission(
                    lab_id=lab.id,
                    user_id=learner.id,
                    files={"main.py": f"print({n})\n"},
                    kind="submit",
                    status="done",
                    verdict="wrong_answer",
                    score=float(n),
                    report={"tests": []},
                )
            )
        quiz_id = db.session.scalar(select(Quiz.id).where(Quiz.course_id == course.id))
        db.session.commit()
    for lesson_id in lessons:
        client.get(f"/courses/{COURSE}/activities/{lesson_id}")
    for _ in range(2):
        attempt = urlsplit(client.post(f"/quiz/{quiz_id}/start").headers["Location"]).path
        client.post(f"{attempt}/submit")


def test_learner_pages_query_counts_are_small_and_do_not_grow(demo, client, auth):
    auth.login(LEARNER)
    pages = _pages(client, demo)
    before = _counts(demo, client, pages)
    assert max(before.values()) <= MAX_QUERIES, before

    _grow_course_and_history(demo, client)
    pages = _pages(client, demo)  # a fresh open attempt (the earlier ones are finished)
    after = _counts(demo, client, pages)
    assert after == before


def test_opening_an_activity_again_writes_nothing(demo, client, auth):
    auth.login(LEARNER)
    lesson = f"/courses/{COURSE}/activities/{_first_of_each_type(demo)[1][0]}"
    with demo.app_context(), counting() as first:
        assert client.get(lesson).status_code == 200
    assert first.writes, "the first view is recorded"
    with demo.app_context(), counting() as again:
        assert client.get(lesson).status_code == 200
    assert again.writes == []


def test_lesson_html_is_stored_and_follows_the_body(demo):
    from courses.lesson.models import Lesson

    with demo.app_context():
        lesson = db.session.scalars(select(Lesson)).first()
        lesson.body = "Hello <script>alert(1)</script> **world**"
        db.session.commit()
        stored = db.session.get(Lesson, lesson.id).body_html
        assert "<strong>world</strong>" in stored and "<script" not in stored
        lesson.body = ""
        db.session.commit()
        assert db.session.get(Lesson, lesson.id).body_html == ""
        assert str(lesson.html) == ""
