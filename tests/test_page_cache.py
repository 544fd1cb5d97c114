"""Learner pages kept rendered (lms.pagecache): served again to the same person while nothing they
show has changed, and never once it has: their own progress, somebody else's change of the
course, a pending message, a countdown."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import event, select, update

from courses.quiz.models import QuizAttempt
from lms.domain.models import Activity, Course, Enrolment
from lms.extensions import db
from lms.pagecache.models import SITE, PageGeneration, user_scope
from lms.pagecache.store import MAX_PAGE_BYTES, PageStore, StoredPage
from lms.timeutil import utcnow
from tests import factories as f
from tests.conftest import make_app


@pytest.fixture
def world(app):
    with app.app_context():
        uni = f.make_org("uni-pc")
        f.make_user("author@pc.test", uni, "trainer")
        one = f.make_user("one@pc.test", uni, "learner")
        two = f.make_user("two@pc.test", uni, "learner")
        course = f.make_course([uni], title="Signals and systems", slug="signals")
        other = f.make_course([uni], title="Control theory", slug="control")
        module = f.make_module(course)
        first = f.make_lesson(module, "Sampling", body="Nyquist says **twice**.")
        second = f.make_lesson(module, "Aliasing", body="Folding frequencies.")
        f.make_question(course, "q1", "single", prompt="Nyquist rate of 10 Hz?")
        quiz = f.make_quiz(module, "Check", question_keys=["q1"], time_limit_minutes=10)
        f.enrol(one, course)
        f.enrol(two, course)
        db.session.commit()
        return SimpleNamespace(
            one=one.id, two=two.id, course=course.id, other=other.id,
            first=first.id, second=second.id, quiz=quiz.id,
        )  # fmt: skip


def login(client, email):
    response = client.post("/auth/login", data={"email": email, "password": f.PASSWORD})
    assert response.status_code in (302, 303)
    client.get(response.headers["Location"])  # as a browser does: shows the welcome message
    return client


def hit(response) -> bool:
    assert response.status_code == 200, response.data[:300]
    return response.headers.get("X-Page-Cache") == "hit"


def generation(app, scope: str):
    with app.app_context():
        return db.session.get(PageGeneration, scope).generation


def test_a_learners_page_is_served_again_until_their_own_progress_changes(app, world):
    one = login(app.test_client(), "one@pc.test")
    first = one.get("/courses/signals")
    again = one.get("/courses/signals")
    assert not hit(first) and hit(again)
    assert again.data == first.data
    assert 'icon--todo" ' in again.text and 'icon--tick"' not in again.text

    # Opening a lesson records it as viewed: the course page shows the tick at once.
    one.get(f"/courses/signals/activities/{world.first}")
    after = one.get("/courses/signals")
    assert not hit(after)
    assert 'icon--tick"' in after.text
    assert hit(one.get("/courses/signals"))


def test_a_stored_page_costs_the_session_users_query_alone(app, world):
    one = login(app.test_client(), "one@pc.test")
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    for path in ("/courses/signals", f"/courses/signals/activities/{world.second}", "/learning"):
        one.get(path)
        one.get(path)
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", count)
            try:
                statements.clear()
                assert hit(one.get(path))
            finally:
                event.remove(db.engine, "before_cursor_execute", count)
        assert len(statements) == 1 and "page_generations" in statements[0]


def test_somebody_elses_progress_leaves_a_learners_pages_alone(app, world):
    one = login(app.test_client(), "one@pc.test")
    one.get("/courses/signals")
    two = login(app.test_client(), "two@pc.test")
    two.get(f"/courses/signals/activities/{world.first}")  # a write about learner two
    assert hit(one.get("/courses/signals"))
    assert not hit(two.get("/courses/signals"))


def test_a_change_to_the_course_reaches_every_learner_at_their_next_request(app, world):
    one = login(app.test_client(), "one@pc.test")
    for path in ("/courses/", "/courses/signals", f"/courses/signals/activities/{world.second}"):
        one.get(path)
        one.get(path)  # the first opening of a lesson records it: a change of this learner's
        assert hit(one.get(path))
    with app.app_context():
        db.session.get(Course, world.course).title = "Signals, systems and noise"
        db.session.commit()
    for path in ("/courses/", "/courses/signals", f"/courses/signals/activities/{world.second}"):
        response = one.get(path)
        assert not hit(response)
        assert "Signals, systems and noise" in response.text


def test_staff_pages_are_never_kept(app, world):
    author = login(app.test_client(), "author@pc.test")
    for _ in range(3):
        assert not hit(author.get("/courses/signals"))
        assert not hit(author.get("/courses/"))


def test_another_session_of_the_same_person_gets_its_own_page(app, world):
    one = login(app.test_client(), "one@pc.test")
    one.get("/dashboard")
    assert hit(one.get("/dashboard"))
    elsewhere = login(app.test_client(), "one@pc.test")
    assert not hit(elsewhere.get("/dashboard"))  # its forms carry this session's tokens


def test_a_pending_message_is_shown_not_a_stored_page(app, world):
    one = login(app.test_client(), "one@pc.test")
    one.get("/courses/control")
    assert hit(one.get("/courses/control"))
    enrolled = one.post("/courses/control/enrol", follow_redirects=True)
    assert not hit(enrolled)
    assert "You are enrolled in “Control theory”." in enrolled.text
    page = one.get("/courses/control")
    assert not hit(page)
    assert "/courses/control/unenrol" in page.text


def test_my_learning_and_the_dashboard_follow_the_learners_enrolments(app, world):
    one = login(app.test_client(), "one@pc.test")
    for path in ("/learning", "/dashboard"):
        assert "Control theory" not in one.get(path).text
        assert hit(one.get(path))
    one.post("/courses/control/enrol")
    for path in ("/learning", "/dashboard"):
        response = one.get(path)
        assert not hit(response) and "Control theory" in response.text


def test_a_stored_quiz_attempt_shows_the_time_left_now(app, world, monkeypatch):
    one = login(app.test_client(), "one@pc.test")
    started = one.post(f"/quiz/{world.quiz}/start")
    path = started.headers["Location"]
    first = one.get(path)
    seconds = int(re.search(r'data-seconds-left="(\d+)"', first.text)[1])
    assert 590 <= seconds <= 600

    later = utcnow() + timedelta(seconds=125)
    monkeypatch.setattr("courses.quiz.views_learner.utcnow", lambda: later)
    again = one.get(path)
    assert hit(again)
    left = int(re.search(r'data-seconds-left="(\d+)"', again.text)[1])
    assert seconds - 130 <= left <= seconds - 120
    minutes, rest = divmod(left, 60)
    assert f'aria-live="off">{minutes}:{rest:02d}</span>' in again.text

    # Saving answers is a change of the attempt: the next page is rendered again.
    monkeypatch.undo()
    with app.app_context():
        attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == world.one))
        attempt.answers = {"q1": ["0"]}
        db.session.commit()
    assert not hit(one.get(path))


def test_the_learners_own_steps_never_put_everybody_elses_pages_out_of_date(app, world):
    one = login(app.test_client(), "one@pc.test")
    one.get("/courses/signals")  # a first page: creates the generations
    site = generation(app, SITE)
    before = generation(app, user_scope(world.one))
    one.get(f"/courses/signals/activities/{world.first}")
    one.get(f"/courses/signals/activities/{world.second}")
    attempt = one.post(f"/quiz/{world.quiz}/start").headers["Location"]
    assert one.post(attempt + "/submit", data={"q-q1": "0"}).status_code == 302
    one.post("/courses/control/enrol")
    assert generation(app, SITE) == site
    assert generation(app, user_scope(world.one)) > before


def test_bulk_statements_put_out_of_date_the_pages_of_the_people_they_touch(app, world):
    with app.app_context():
        db.session.execute(
            update(Enrolment).where(Enrolment.user_id == world.two).values(status="withdrawn")
        )
        db.session.commit()
    assert generation(app, user_scope(world.two)) >= 1
    with app.app_context():
        unrelated = db.session.get(PageGeneration, user_scope(world.one)).generation
        site_before = db.session.get(PageGeneration, SITE).generation
        db.session.execute(update(Course).where(Course.id == world.other).values(summary="New"))
        db.session.commit()
    assert generation(app, SITE) == site_before + 1
    assert generation(app, user_scope(world.one)) == unrelated


def test_pages_are_not_kept_when_the_cache_is_off(database_url, instance_path, world):
    off = make_app(database_url, instance_path, PAGE_CACHE_SECONDS=0)
    one = login(off.test_client(), "one@pc.test")
    for _ in range(3):
        assert not hit(one.get("/courses/signals"))


def test_a_page_is_kept_no_longer_than_the_next_opening_date_it_shows(app, world):
    with app.app_context():
        lesson = db.session.get(Activity, world.second)
        lesson.available_from = utcnow() + timedelta(seconds=30)
        db.session.commit()
    one = login(app.test_client(), "one@pc.test")
    one.get("/courses/signals")
    assert "icon--lock" in one.get("/courses/signals").text
    store = app.extensions["lms.page_store"]
    (page,) = [p for key, p in store._pages.items() if key[2] == "/courses/signals?"]
    assert 20 < page.expires - time.monotonic() <= 30  # not the minute pages last otherwise


def test_a_transaction_bumps_each_generation_once_and_a_rolled_back_one_not_at_all(app, world):
    scope = user_scope(world.one)
    before = generation(app, scope)
    with app.app_context():
        enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == world.one))
        for status in ("withdrawn", "active", "withdrawn"):
            enrolment.status = status
            db.session.flush()  # three flushes of one transaction
        db.session.commit()
    assert generation(app, scope) == before + 1
    with app.app_context():
        enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == world.one))
        enrolment.status = "active"
        db.session.flush()
        db.session.rollback()
        enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == world.one))
        enrolment.status = "active"
        db.session.commit()  # bumps again: the rolled back bump is gone
    assert generation(app, scope) == before + 2


def test_an_administrator_can_put_every_kept_page_out_of_date(app, world, runner):
    one = login(app.test_client(), "one@pc.test")
    one.get("/courses/signals")
    assert hit(one.get("/courses/signals"))
    with app.app_context():  # a change the page store cannot see: raw SQL
        db.session.execute(
            Course.__table__.update()
            .where(Course.__table__.c.id == world.course)
            .values(title="Renamed behind the ORM's back")
        )
        db.session.commit()
    assert hit(one.get("/courses/signals"))  # still the kept page (for at most a minute)
    result = runner.invoke(args=["lms", "expire-pages"])
    assert result.exit_code == 0 and "out of date" in result.output
    page = one.get("/courses/signals")
    assert not hit(page) and "Renamed behind the ORM" in page.text


def test_the_store_keeps_the_most_recently_used_pages_within_its_bounds():
    store = PageStore(capacity=3, max_bytes=MAX_PAGE_BYTES)
    far = time.monotonic() + 60

    def page(size: int) -> StoredPage:
        return StoredPage((1, 1), b"x" * size, "text/html", far)

    for key in "abc":
        store.put(key, page(100))
    assert store.get("a", (1, 1)) is not None  # used: "b" is now the oldest
    store.put("d", page(100))
    assert store.get("b", (1, 1)) is None and len(store) == 3
    store.put("e", page(MAX_PAGE_BYTES - 150))  # over the byte budget: the oldest go first
    assert store.bytes <= MAX_PAGE_BYTES
    assert store.get("e", (1, 1)) is not None and store.get("c", (1, 1)) is None
    store.put("huge", page(MAX_PAGE_BYTES + 1))  # never kept
    assert store.get("huge", (1, 1)) is None
    assert store.get("e", (2, 1)) is None  # another generation: out of date, and dropped
    assert store.bytes == sum(len(p.body) for p in store._pages.values())
