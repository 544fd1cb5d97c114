"""Feedback: the evaluation at completion and the follow-up feed the indicators; answered once;
trainers see comments without names and averages from 5 answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.cluster.indicators import Viewer, indicator_report
from lms.cluster.models import SurveyInvitation, SurveyResponse
from lms.cluster.periods import month_of
from lms.extensions import db
from lms.models import User
from lms.progress.models import CourseCompletion, Notification
from lms.timeutil import utcnow
from tests.cluster_factories import cluster_world, login


@pytest.fixture
def world(app):
    w = cluster_world(app)
    with app.app_context():
        # Move the June completions to 100 days ago: the follow-up is due.
        for row in db.session.scalars(select(CourseCompletion)):
            row.completed_at = utcnow() - timedelta(days=100)
        db.session.commit()
    return w


def test_evaluation_once_and_bad_input(app, client, world):
    login(client, "s0@uni.test")
    url = f"/cluster/surveys/course/{world.course}"
    assert client.get(url).status_code == 200
    bad = client.post(url, data={"satisfaction": "9", "relevance": "3"})
    assert bad.status_code == 400 and "from 1 to 5" in bad.get_data(as_text=True)
    assert client.post(url, data={"satisfaction": "5", "relevance": "4",
                                  "comment": "Great labs"}).status_code == 302  # fmt: skip
    twice = client.post(url, data={"satisfaction": "1", "relevance": "1"})
    assert twice.status_code == 400 and "already evaluated" in twice.get_data(as_text=True)
    client.post("/auth/logout")
    login(client, "s5@uni.test")  # has not completed
    assert client.post(url, data={"satisfaction": "5", "relevance": "5"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count(SurveyResponse.id))) == 1


def test_follow_up_sent_once_answered_by_employee_and_hr(app, client, runner, world):
    first = runner.invoke(args=["cluster", "surveys"])
    assert first.exit_code == 0 and "sent: 7" in first.output  # 2 Acme + 5 Globex employees
    assert "sent: 0" in runner.invoke(args=["cluster", "surveys"]).output
    with app.app_context():
        assert db.session.scalar(select(func.count(SurveyInvitation.id))) == 7
        employee = db.session.scalar(select(User).where(User.email == "e0@acme.test"))
        assert (
            db.session.scalar(
                select(func.count(Notification.id)).where(
                    Notification.user_id == employee.id, Notification.kind == "follow_up_survey"
                )
            )
            == 1
        )
        employee_id = employee.id
    url = f"/cluster/surveys/follow-up/{world.course}/{employee_id}"
    login(client, "e0@acme.test")
    assert client.post(url, data={"skills_used": "5"}).status_code == 302
    assert client.post(url, data={"skills_used": "4"}).status_code == 400
    client.post("/auth/logout")
    login(client, "hr@acme.test")
    assert (
        client.post(url, data={"skills_used": "4", "comment": "Uses SPC daily"}).status_code == 302
    )
    client.post("/auth/logout")
    login(client, "hr@globex.test")  # not this employee's HR
    assert client.post(url, data={"skills_used": "1"}).status_code == 403
    with app.app_context():
        report = indicator_report(
            month_of(utcnow()), Viewer(frozenset({world.acme}), True), utcnow()
        )
    acme = next(p for p in report["partners"] if p["organization"]["slug"] == "acme")
    assert acme["indicators"]["skills_used"]["value"] == 100.0  # own organization: not hidden
    globex = next(p for p in report["partners"] if p["organization"]["slug"] == "globex")
    assert globex["indicators"]["skills_used"]["value"] is None


def test_completion_invites_evaluation_and_trainers_see_anonymous_feedback(app, client, world):
    from lms import signals
    from lms.domain.models import Course

    with app.app_context():
        course = db.session.get(Course, world.course)
        students = db.session.scalars(select(User).where(User.email.like("s%@uni.test"))).all()
        completion = db.session.scalar(select(CourseCompletion).limit(1))
        signals.course_completed.send(None, user=students[0], course=course, completion=completion)
        assert (
            db.session.scalar(
                select(func.count(Notification.id)).where(Notification.kind == "course_evaluation")
            )
            == 1
        )
        db.session.rollback()
    for i, email in enumerate(["s0@uni.test", "s1@uni.test", "s2@uni.test"]):
        login(client, email)
        client.post(f"/cluster/surveys/course/{world.course}",
                    data={"satisfaction": str(3 + i % 3), "relevance": "4", "comment": f"Note {i}"})  # fmt: skip
        client.post("/auth/logout")
    login(client, "trainer@uni.test")
    page = client.get(f"/cluster/surveys/course/{world.course}/results").get_data(as_text=True)
    assert "Note 0" in page and "Note 2" in page
    with app.app_context():
        names = db.session.scalars(
            select(User.name).where(User.email.in_(["s0@uni.test", "s1@uni.test", "s2@uni.test"]))
        ).all()
    assert names and not any(f">{name}<" in page or f"{name} " in page for name in names)
    assert "fewer than 5" in page  # averages held back under 5 answers
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Course feedback" in dashboard
    client.post("/auth/logout")
    login(client, "hr@globex.test")
    assert client.get(f"/cluster/surveys/course/{world.course}/results").status_code == 403
