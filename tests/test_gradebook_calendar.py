"""Gradebook (weighted categories, overrides, exports, the learner's view, totals as the course
grade) and calendar (month and agenda views, the private revocable iCalendar feed)."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select

from courses.assignment.models import Assignment
from lms.calendar import ical
from lms.domain.models import Course
from lms.extensions import db
from lms.gradebook import rules
from lms.gradebook.queries import build_gradebook
from lms.models import User
from lms.timeutil import utcnow

SARA, MARCO, TRAINER = "student@uni.demo", "employee@acme.demo", "trainer@uni.demo"


def test_course_total_rule():
    items = [rules.Item(1, 1.0, 10), rules.Item(2, 3.0, 10), rules.Item(3, 2.0, None)]
    grades = {1: 100.0, 2: 60.0, 3: 90.0}
    assert rules.category_grades(items, grades) == {10: 70.0}
    assert rules.course_total(items, grades, {10: 2.0}) == pytest.approx((2 * 70 + 2 * 90) / 4)
    # Ungraded work is left out, not counted as zero.
    assert rules.course_total(items, {1: 100.0, 2: None, 3: None}, {10: 2.0}) == 100.0
    assert rules.course_total(items, {}, {10: 2.0}) is None


def test_ical_escaping_and_folding():
    e = ical.Event("x@e", datetime(2026, 12, 24, 17, 0), "Report; part 1, draft\\final", "Línea 3 " * 12,
                   "due", "https://e.test/a")  # fmt: skip
    text = ical.calendar("Me", [e], datetime(2026, 12, 1))
    assert "SUMMARY:Due: Report\\; part 1\\, draft\\\\final" in text
    assert "DTSTART:20261224T170000Z" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


def _course(app) -> Course:
    return db.session.scalar(select(Course).where(Course.slug == "python-for-production-data"))


def _grade_and_release(app, client, auth):
    from courses.assignment.grading import grade_submission, release_grades
    from courses.assignment.services import submission_of

    with app.app_context():
        a = db.session.scalar(select(Assignment))
        marco = db.session.scalar(select(User).where(User.email == MARCO))
        trainer = db.session.scalar(select(User).where(User.email == TRAINER))
        grade_submission(
            submission_of(a, marco.id), trainer, levels=[2, 1, 1], feedback="Solid *table*."
        )
        db.session.commit()
        return a.id, release_grades


def test_gradebook_grid_overrides_exports_and_learner_view(demo, client, auth):
    aid, release = _grade_and_release(demo, client, auth)
    with demo.app_context():
        course_id = _course(demo).id
    auth.login(TRAINER)
    page = client.get(f"/gradebook/{course_id}").data
    assert b"Scrap report for line 3" in page and b"not released" in page and b"Marco Rossi" in page
    auth.logout()
    auth.login(MARCO)
    mine = client.get(f"/gradebook/{course_id}/me").data
    assert b"Not released yet" in mine and b"Solid" not in mine
    with demo.app_context():
        release(db.session.get(Assignment, aid))
        db.session.commit()
    mine = client.get(f"/gradebook/{course_id}/me").data
    assert b"70.0%" in mine and b"<em>table</em>" in mine  # feedback Markdown, sanitised
    assert client.get(f"/gradebook/{course_id}").status_code == 403  # learners see only their own
    auth.logout()
    auth.login(TRAINER)
    with demo.app_context():
        marco_id = db.session.scalar(select(User.id).where(User.email == MARCO))
    bad = client.post(f"/gradebook/{course_id}/override", data={"user_id": marco_id,
                      "activity_id": aid, "grade": "120", "reason": "x"}, follow_redirects=True)  # fmt: skip
    assert b"from 0 to 100" in bad.data
    no_reason = client.post(f"/gradebook/{course_id}/override", data={"user_id": marco_id,
                            "activity_id": aid, "grade": "80", "reason": ""}, follow_redirects=True)  # fmt: skip
    assert b"Give a reason" in no_reason.data
    client.post(f"/gradebook/{course_id}/override", data={"user_id": marco_id, "activity_id": aid,
                "grade": "=HYPERLINK(1)", "reason": "r"})  # fmt: skip
    client.post(f"/gradebook/{course_id}/override", data={"user_id": marco_id, "activity_id": aid,
                "grade": "80", "reason": "Mentor's second reading"})  # fmt: skip
    grid = client.get(f"/gradebook/{course_id}").data
    assert b"Overridden" in grid and b"Mentor&#39;s second reading" in grid
    exported = client.get(f"/gradebook/{course_id}/export.csv")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0][-1] == "Course total"
    marco_row = next(r for r in rows if r[1] == MARCO)
    assert marco_row[rows[0].index("Scrap report for line 3")] == "80.0"
    xlsx = client.get(f"/gradebook/{course_id}/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_categories_weight_the_total_and_the_query_count_is_constant(demo, client, auth):
    with demo.app_context():
        course = _course(demo)
        course_id = course.id
        from lms.gradebook.queries import graded_activities

        quiz = next(a for a in graded_activities(course_id) if a.type == "quiz")
    auth.login(TRAINER)
    client.post(
        f"/gradebook/{course_id}/setup", data={"action": "add", "name": "Checks", "weight": "1"}
    )
    client.post(
        f"/gradebook/{course_id}/setup", data={"action": "add", "name": "checks", "weight": "1"}
    )
    with demo.app_context():
        from lms.gradebook.models import GradeCategory

        cats = db.session.scalars(select(GradeCategory)).all()
        assert [c.name for c in cats] == ["Checks"]  # the duplicate name was refused
        cat_id = cats[0].id
    client.post(f"/gradebook/{course_id}/setup", data={"action": "save", f"name-{cat_id}": "Checks",
                f"weight-{cat_id}": "3", f"category-{quiz.id}": str(cat_id)})  # fmt: skip
    bad = client.post(f"/gradebook/{course_id}/setup", data={"action": "save", f"name-{cat_id}": "Checks",
                      f"weight-{cat_id}": "-2"}, follow_redirects=True)  # fmt: skip
    assert b"from 0 to 1000" in bad.data
    with demo.app_context():
        assert db.session.get(GradeCategory, cat_id).weight == 3.0
        course = _course(demo)
        statements = []
        listener = lambda *a, **k: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            build_gradebook(course, None)
            small = len(statements)
            statements.clear()
            from tests import factories as f

            for i in range(12):
                learner = f.make_user(f"gb{i}@uni.test", course.partners[0].organization, "learner")
                from lms.domain.services import enrol_user

                enrol_user(learner, course)
            db.session.flush()
            statements.clear()
            build_gradebook(course, None)
            assert len(statements) == small
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        db.session.rollback()


def test_calendar_views_and_private_feed(demo, client, auth):
    with demo.app_context():
        a = db.session.scalar(select(Assignment))
        due = a.due_at
    auth.login(SARA)
    agenda = client.get("/calendar?view=agenda").data
    assert b"Due: " in agenda and b"Scrap report for line 3" in agenda
    month = client.get(f"/calendar?month={due:%Y-%m}").data
    assert b"Scrap report for line 3" in month
    assert client.get("/calendar?month=99999-77").status_code == 200  # falls back to this month
    made = client.post("/calendar/feed")
    token = re.search(rb"/calendar/feed/([A-Za-z0-9_-]+)\.ics", made.data).group(1).decode()
    site = demo.config["SITE_URL"].rstrip("/")
    assert f"{site}/calendar/feed/{token}.ics".encode() in made.data  # the public address
    feed = client.get(f"/calendar/feed/{token}.ics")
    assert feed.mimetype == "text/calendar"
    body = feed.get_data(as_text=True)
    assert "BEGIN:VCALENDAR" in body and "Scrap report for line 3" in body
    links = re.findall(r"^URL:(.*)$", body.replace("\r\n ", ""), re.M)
    assert links and all(link.startswith(site) for link in links)  # from SITE_URL, never the Host
    assert f"DTSTART:{due:%Y%m%dT%H%M%S}Z" in body
    # Another user's extension never shows; revoking kills the URL.
    client.post("/calendar/feed/revoke")
    assert client.get(f"/calendar/feed/{token}.ics").status_code == 404
    assert client.get("/calendar/feed/not-a-token.ics").status_code == 404


def test_extension_moves_the_learners_due_date_in_the_feed(demo, client, auth):
    from courses.assignment.services import grant_extension

    with demo.app_context():
        a = db.session.scalar(select(Assignment))
        sara = db.session.scalar(select(User).where(User.email == SARA))
        trainer = db.session.scalar(select(User).where(User.email == TRAINER))
        later = (utcnow() + timedelta(days=40)).replace(second=0, microsecond=0)
        grant_extension(a, sara, later, "Shift work", trainer)
        db.session.commit()
    auth.login(SARA)
    made = client.post("/calendar/feed")
    token = re.search(rb"/calendar/feed/([A-Za-z0-9_-]+)\.ics", made.data).group(1).decode()
    assert f"DTSTART:{later:%Y%m%dT%H%M%S}Z" in client.get(f"/calendar/feed/{token}.ics").get_data(
        as_text=True
    )


def test_a_quiz_that_closes_is_in_the_calendar_and_refuses_late_attempts(demo, client, auth):
    from courses.quiz.models import Quiz

    with demo.app_context():
        quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == _course(demo).id))
        closes = (utcnow() + timedelta(days=5)).replace(second=0, microsecond=0)
        quiz.close_at = closes
        db.session.commit()
        qid, slug = quiz.id, quiz.course.slug
    auth.login(SARA)
    agenda = client.get("/calendar?view=agenda").data
    assert b"Closes: " in agenda and b"Check: production data basics" in agenda
    with demo.app_context():
        closed = db.session.get(Quiz, qid)
        closed.close_at = utcnow() - timedelta(minutes=1)
        closed.conditions.clear()  # open to Sara but for the close date
        db.session.commit()
    late = client.post(f"/quiz/{qid}/start", follow_redirects=True)
    assert b"This quiz closed on" in late.data
    assert client.get(f"/courses/{slug}/activities/{qid}").status_code == 200
