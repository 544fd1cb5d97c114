"""In the browser: the countdown runs, autosaves answers and submits the attempt at zero."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from courses.quiz.models import Quiz, QuizAttempt
from lms.extensions import db
from lms.timeutil import utcnow
from tests import factories as f
from tests.conftest import browser_login


@pytest.mark.browser
def test_countdown_autosaves_and_submits_at_zero(app, page):
    from playwright.sync_api import expect

    with app.app_context():
        uni = f.make_org("uni-b")
        learner = f.make_user("learner@b.test", uni, "learner")
        course = f.make_course(uni, title="Timed")
        module = f.make_module(course)
        f.make_question(course, "q1", "numeric", answer=42.0, prompt="Six times seven?")
        f.make_question(course, "q2", "true_false", answer=True, prompt="Water is wet.")
        quiz = f.make_quiz(module, "Timed quiz", question_keys=["q1", "q2"], time_limit_minutes=5)
        f.enrol(learner, course)
        db.session.commit()
        quiz_id = quiz.id

    browser_login(page, "learner@b.test")
    # Start from the quiz's own history page (the course pages are tested by their area).
    page.goto(f"/quiz/{quiz_id}/attempts")
    page.get_by_role("button", name="Start attempt").click()
    page.wait_for_url("**/attempt/*")
    assert page.locator(".quiz-timer__value").inner_text().startswith(("4:", "5:"))
    page.get_by_label("Your answer (a number)").fill("42")
    page.get_by_label("True").check()
    # The change event triggers an autosave: the server has the answers before any submit.
    expect(page.locator("#quiz-saved")).to_contain_text("saved automatically")
    with app.app_context():
        attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.quiz_id == quiz_id))
        assert attempt.answers == {"q1": "42", "q2": True}
        # Bring the deadline close, then reload: the page counts down from what the server says.
        attempt.deadline = utcnow() + timedelta(seconds=3)
        db.session.commit()
    page.reload()
    page.wait_for_url("**/result", timeout=15000)
    assert page.get_by_role("heading", name="Result of attempt 1").is_visible()
    assert "submitted automatically" in page.locator(".flashes").inner_text()
    with app.app_context():
        attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.quiz_id == quiz_id))
        assert attempt.state == "finished" and attempt.score == 100.0
        assert db.session.get(Quiz, quiz_id).time_limit_minutes == 5
