"""Quiz pages through the client: taking a quiz, the time limit, refusals, results, the bank."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from courses.quiz.models import Quiz, QuizAttempt, QuizQuestion
from lms.domain.models import Course, CourseSignoff, CourseStatus
from lms.extensions import db
from lms.progress.models import ActivityCompletion
from lms.timeutil import utcnow
from tests import factories as f


@pytest.fixture
def world(app):
    with app.app_context():
        uni = f.make_org("uni-q")
        acme = f.make_org("acme-q", kind="enterprise")
        f.make_user("author@q.test", uni, "trainer")
        learner = f.make_user("learner@q.test", uni, "learner")
        f.make_user("stranger@q.test", uni, "learner")
        course = f.make_course([uni, acme], title="Statistics")
        module = f.make_module(course)
        f.make_question(course, "q1", "single", prompt="Mean of 1, 2, 3?",
                        options=[{"text": "2", "correct": True, "feedback": "Sum 6 over 3."},
                                 {"text": "3", "correct": False, "feedback": "That is the max."}])  # fmt: skip
        f.make_question(course, "q2", "multiple", points=2,
                        options=[{"text": "mean", "correct": True}, {"text": "median", "correct": True},
                                 {"text": "colour", "correct": False}])  # fmt: skip
        f.make_question(
            course, "q3", "true_false", answer=False, prompt="Variance can be negative."
        )
        f.make_question(course, "q4", "numeric", answer=3.14, tolerance=0.01)
        f.make_question(course, "q5", "short", accepted=["sigma"], feedback="Greek **s**.")
        quiz = f.make_quiz(module, "Check your understanding",
                           question_keys=["q1", "q2", "q3", "q4", "q5"], attempts_allowed=2,
                           pass_mark=60.0)  # fmt: skip
        f.enrol(learner, course)
        db.session.commit()
        return SimpleNamespace(course_id=course.id, quiz_id=quiz.id, module_id=module.id)


def login(client, email):
    response = client.post("/auth/login", data={"email": email, "password": f.PASSWORD})
    assert response.status_code in (302, 303)


def start(client, quiz_id):
    response = client.post(f"/quiz/{quiz_id}/start")
    assert response.status_code == 302, response.data[:500]
    match = re.search(r"/attempt/(\d+)$", response.headers["Location"])
    return int(match.group(1))


def option_id(app, attempt_id, key, text):
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        q = next(q for q in attempt.questions if q["key"] == key)
        return str(next(o["id"] for o in q["options"] if o["text"] == text))


def full_answers(app, attempt_id):
    return {
        "q-q1": option_id(app, attempt_id, "q1", "2"),
        "q-q2": [
            option_id(app, attempt_id, "q2", "mean"),
            option_id(app, attempt_id, "q2", "median"),
        ],
        "q-q3": "false",
        "q-q4": "3,141",
        "q-q5": " Sigma ",
    }


def test_learner_takes_quiz_and_sees_feedback(app, client, world):
    login(client, "learner@q.test")
    attempt_id = start(client, world.quiz_id)
    page = client.get(f"/quiz/{world.quiz_id}/attempt/{attempt_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count("<fieldset") == 5 and "<legend" in html
    assert "Submit answers" in html and "quiz-timer.js" in html
    assert 'name="q-q4"' in html and 'for="q-q4-input"' in html
    response = client.post(f"/quiz/{world.quiz_id}/attempt/{attempt_id}/submit",
                           data=full_answers(app, attempt_id))  # fmt: skip
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/attempt/{attempt_id}/result")
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Result of attempt 1" in result
    assert "100.0%" in result and "Passed" in result
    assert "Sum 6 over 3." in result and "Greek <strong>s</strong>." in result
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        assert attempt.state == "finished" and attempt.score == 100.0 and attempt.passed
        completion = db.session.scalar(
            select(ActivityCompletion).where(ActivityCompletion.activity_id == world.quiz_id)
        )
        assert completion.grade == 100.0 and completion.attempts == 1


def test_partial_score_and_wrong_answers(app, client, world):
    login(client, "learner@q.test")
    attempt_id = start(client, world.quiz_id)
    data = {"q-q1": option_id(app, attempt_id, "q1", "3"),
            "q-q2": [option_id(app, attempt_id, "q2", "mean")], "q-q3": "false"}  # fmt: skip
    client.post(f"/quiz/{world.quiz_id}/attempt/{attempt_id}/submit", data=data)
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        # q1 0/1, q2 1/2, q3 1/1, q4 0/1, q5 0/1 -> 2 of 6 points
        assert attempt.points_earned == 2.0 and attempt.score == pytest.approx(33.33)
        assert attempt.passed is False
        assert [r["status"] for r in attempt.results] == [
            "incorrect", "partial", "correct", "unanswered", "unanswered"]  # fmt: skip
    html = client.get(f"/quiz/{world.quiz_id}/attempt/{attempt_id}/result").get_data(as_text=True)
    assert "Failed" in html and "That is the max." in html and "Correct answer" in html


def test_submitting_twice_is_refused_without_change(app, client, world):
    login(client, "learner@q.test")
    attempt_id = start(client, world.quiz_id)
    client.post(f"/quiz/{world.quiz_id}/attempt/{attempt_id}/submit", data={"q-q3": "false"})
    again = client.post(f"/quiz/{world.quiz_id}/attempt/{attempt_id}/submit",
                        data=full_answers(app, attempt_id))  # fmt: skip
    assert again.status_code == 409
    assert "already submitted" in again.get_data(as_text=True)
    saving = client.post(f"/quiz/{world.quiz_id}/attempt/{attempt_id}/save", data={"q-q3": "true"})
    assert saving.status_code == 409
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        assert attempt.answers["q3"] is False and attempt.points_earned == 1.0


def test_attempts_limit(app, client, world):
    login(client, "learner@q.test")
    for _ in range(2):
        attempt_id = start(client, world.quiz_id)
        client.post(f"/quiz/{world.quiz_id}/attempt/{attempt_id}/submit", data={})
    refused = client.post(f"/quiz/{world.quiz_id}/start")
    assert refused.status_code == 409
    assert "used all 2 attempts" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(QuizAttempt).count() == 2
    history = client.get(f"/quiz/{world.quiz_id}/attempts").get_data(as_text=True)
    assert "2 of 2 attempts used" in history and "Start attempt" not in history


def test_start_twice_returns_the_open_attempt(client, world):
    login(client, "learner@q.test")
    assert start(client, world.quiz_id) == start(client, world.quiz_id)


def test_answering_someone_elses_attempt_is_404(app, client, world):
    login(client, "learner@q.test")
    attempt_id = start(client, world.quiz_id)
    client.post("/auth/logout")
    with app.app_context():
        course = db.session.get(Course, world.course_id)
        other = db.session.scalar(select(f.User).where(f.User.email == "stranger@q.test"))
        f.enrol(other, course)
        db.session.commit()
    login(client, "stranger@q.test")
    for url in (f"/quiz/{world.quiz_id}/attempt/{attempt_id}",
                f"/quiz/{world.quiz_id}/attempt/{attempt_id}/result"):  # fmt: skip
        assert client.get(url).status_code == 404
    for action in ("save", "submit"):
        r = client.post(
            f"/quiz/{world.quiz_id}/attempt/{attempt_id}/{action}", data={"q-q3": "true"}
        )
        assert r.status_code == 404
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        assert attempt.state == "in_progress" and attempt.answers == {}


def test_not_enrolled_learner_must_enrol_first(app, client, world):
    login(client, "stranger@q.test")
    response = client.post(f"/quiz/{world.quiz_id}/start")
    assert response.status_code == 403
    assert "Enrol in “Statistics”" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(QuizAttempt).count() == 0


def test_unpublished_course_hides_quiz_from_learners(app, client, world):
    with app.app_context():
        db.session.get(Course, world.course_id).status = CourseStatus.DRAFT
        db.session.commit()
    login(client, "learner@q.test")
    assert client.post(f"/quiz/{world.quiz_id}/start").status_code == 404
    assert client.get(f"/quiz/{world.quiz_id}/attempts").status_code == 404


def test_author_previews_without_progress(app, client, world):
    with app.app_context():
        db.session.get(Course, world.course_id).status = CourseStatus.DRAFT
        db.session.commit()
    login(client, "author@q.test")
    for _ in range(3):  # previews ignore the attempts limit
        attempt_id = start(client, world.quiz_id)
        client.post(f"/quiz/{world.quiz_id}/attempt/{attempt_id}/submit", data={"q-q3": "false"})
    with app.app_context():
        attempts = db.session.scalars(select(QuizAttempt)).all()
        assert len(attempts) == 3 and all(a.preview for a in attempts)
        assert db.session.query(ActivityCompletion).count() == 0


def test_time_limit_late_answers_are_ignored(app, client, world):
    with app.app_context():
        db.session.get(Quiz, world.quiz_id).time_limit_minutes = 10
        db.session.commit()
    login(client, "learner@q.test")
    started = time.monotonic()
    attempt_id = start(client, world.quiz_id)
    page = client.get(f"/quiz/{world.quiz_id}/attempt/{attempt_id}").get_data(as_text=True)
    assert 'data-seconds-left="' in page and "Time left" in page
    saved = client.post(f"/quiz/{world.quiz_id}/attempt/{attempt_id}/save", data={"q-q3": "false"},
                        headers={"Accept": "application/json"})  # fmt: skip
    # Counted from the start of the attempt, however long a loaded machine took to get here.
    elapsed = time.monotonic() - started
    assert saved.status_code == 200
    assert 600 - elapsed - 1 <= saved.json["seconds_left"] <= 600
    with app.app_context():  # the deadline passes (beyond the grace period)
        attempt = db.session.get(QuizAttempt, attempt_id)
        attempt.deadline = utcnow() - timedelta(minutes=2)
        db.session.commit()
    late = client.post(f"/quiz/{world.quiz_id}/attempt/{attempt_id}/submit",
                       data=full_answers(app, attempt_id))  # fmt: skip
    assert late.status_code == 302
    result = client.get(late.headers["Location"]).get_data(as_text=True)
    assert "answers saved before the deadline" in result
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        assert attempt.state == "finished" and attempt.auto_submitted
        assert attempt.answers == {"q1": None, "q2": None, "q3": False, "q4": None, "q5": None}
        assert attempt.points_earned == 1.0
        assert attempt.finished_at == attempt.deadline


def test_time_limit_within_grace_is_accepted(app, client, world):
    with app.app_context():
        db.session.get(Quiz, world.quiz_id).time_limit_minutes = 5
        db.session.commit()
    login(client, "learner@q.test")
    attempt_id = start(client, world.quiz_id)
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        attempt.deadline = utcnow() - timedelta(seconds=5)  # the auto-submit was on its way
        db.session.commit()
    client.post(
        f"/quiz/{world.quiz_id}/attempt/{attempt_id}/submit", data=full_answers(app, attempt_id)
    )
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        assert attempt.score == 100.0 and not attempt.auto_submitted


def test_expired_attempt_is_closed_when_visited_and_save_refused(app, client, world):
    with app.app_context():
        db.session.get(Quiz, world.quiz_id).time_limit_minutes = 1
        db.session.commit()
    login(client, "learner@q.test")
    attempt_id = start(client, world.quiz_id)
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        attempt.deadline = utcnow() - timedelta(hours=1)
        db.session.commit()
    late_save = client.post(f"/quiz/{world.quiz_id}/attempt/{attempt_id}/save",
                            data={"q-q3": "false"}, headers={"Accept": "application/json"})  # fmt: skip
    assert late_save.status_code == 409
    assert late_save.json["title"] == "Time is up"
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        assert attempt.state == "finished" and attempt.answers == {} and attempt.score == 0.0
    page = client.get(f"/quiz/{world.quiz_id}/attempt/{attempt_id}")
    assert page.status_code == 302 and page.headers["Location"].endswith("/result")


def test_shuffle_is_stable_across_reloads(app, client, world):
    with app.app_context():
        db.session.get(Quiz, world.quiz_id).shuffle = True
        db.session.commit()
    login(client, "learner@q.test")
    attempt_id = start(client, world.quiz_id)
    first = client.get(f"/quiz/{world.quiz_id}/attempt/{attempt_id}").get_data(as_text=True)
    second = client.get(f"/quiz/{world.quiz_id}/attempt/{attempt_id}").get_data(as_text=True)
    order = re.findall(r'name="(q-q\d)"', first)
    assert order == re.findall(r'name="(q-q\d)"', second)
    assert sorted(set(order)) == ["q-q1", "q-q2", "q-q3", "q-q4", "q-q5"]


def test_editing_a_question_keeps_past_attempts(app, client, world):
    login(client, "learner@q.test")
    attempt_id = start(client, world.quiz_id)
    client.post(
        f"/quiz/{world.quiz_id}/attempt/{attempt_id}/submit", data=full_answers(app, attempt_id)
    )
    client.post("/auth/logout")
    login(client, "author@q.test")
    with app.app_context():
        q1 = db.session.scalar(select(QuizQuestion).where(QuizQuestion.key == "q1"))
        qid = q1.id
    response = client.post(
        f"/quiz/course/{world.course_id}/questions/{qid}/edit",
        data={"key": "q1", "prompt": "Median of 1, 2, 9?", "points": "1",
              "options-0-text": "2", "options-0-correct": "y", "options-1-text": "4"},
    )  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        assert attempt.questions[0]["prompt"] == "Mean of 1, 2, 3?" and attempt.score == 100.0
        assert db.session.get(QuizQuestion, qid).prompt == "Median of 1, 2, 9?"


@pytest.mark.parametrize(
    ("mode", "score_shown", "feedback_shown"),
    [("immediate", True, True), ("score", True, False), ("on_release", False, False)],
)
def test_feedback_modes(app, client, world, mode, score_shown, feedback_shown):
    with app.app_context():
        db.session.get(Quiz, world.quiz_id).feedback_mode = mode
        db.session.commit()
    login(client, "learner@q.test")
    attempt_id = start(client, world.quiz_id)
    client.post(f"/quiz/{world.quiz_id}/attempt/{attempt_id}/submit", data={"q-q1": "0"})
    html = client.get(f"/quiz/{world.quiz_id}/attempt/{attempt_id}/result").get_data(as_text=True)
    assert ("Score</span>" in html) is score_shown
    assert ("quiz-review" in html) is feedback_shown
    if mode == "on_release":
        assert "when the course authors release the results" in html
        client.post("/auth/logout")
        login(client, "author@q.test")
        assert (
            client.post(f"/quiz/{world.quiz_id}/release", data={"action": "release"}).status_code
            == 302
        )
        client.post("/auth/logout")
        login(client, "learner@q.test")
        html = client.get(f"/quiz/{world.quiz_id}/attempt/{attempt_id}/result").get_data(
            as_text=True
        )
        assert "Score</span>" in html and "quiz-review" in html


def test_learner_cannot_release_or_see_results(client, world):
    login(client, "learner@q.test")
    assert client.get(f"/quiz/{world.quiz_id}/results").status_code == 404
    assert client.post(f"/quiz/{world.quiz_id}/release").status_code == 404
    assert client.get(f"/quiz/course/{world.course_id}/questions").status_code == 404


def test_author_results_page(app, client, world):
    login(client, "learner@q.test")
    attempt_id = start(client, world.quiz_id)
    client.post(
        f"/quiz/{world.quiz_id}/attempt/{attempt_id}/submit", data=full_answers(app, attempt_id)
    )
    client.post("/auth/logout")
    login(client, "author@q.test")
    html = client.get(f"/quiz/{world.quiz_id}/results").get_data(as_text=True)
    assert "learner@q.test" in html and "100.0%" in html
    review = client.get(f"/quiz/{world.quiz_id}/attempt/{attempt_id}/result")
    assert review.status_code == 200 and "Your answer" in review.get_data(as_text=True)


# --- question bank ------------------------------------------------------------------------------
def test_question_bank_list_and_filter(client, world):
    login(client, "author@q.test")
    html = client.get(f"/quiz/course/{world.course_id}/questions").get_data(as_text=True)
    assert (
        "Question bank" in html and "<code>q5</code>" in html and "Check your understanding" in html
    )


def test_create_questions_of_each_type(app, client, world):
    login(client, "author@q.test")
    base = f"/quiz/course/{world.course_id}/questions/new"
    cases = {
        "single": {"options-0-text": "x", "options-0-correct": "y", "options-1-text": "y"},
        "multiple": {
            "options-0-text": "x",
            "options-0-correct": "y",
            "options-1-text": "y",
            "options-1-correct": "y",
            "options-2-text": "z",
        },  # fmt: skip
        "true_false": {"tf_answer": "true"},
        "numeric": {"answer": "2,5", "tolerance": "0.1"},
        "short": {"accepted": "alpha\nAlpha \n\nbeta", "case_sensitive": "y"},
    }
    for qtype, extra in cases.items():
        response = client.post(f"{base}/{qtype}",
                               data={"prompt": f"A {qtype} question", "points": "2",
                                     "category": "new", **extra})  # fmt: skip
        assert response.status_code == 302, (qtype, response.get_data(as_text=True)[:2000])
    with app.app_context():
        made = {
            q.type: q
            for q in db.session.scalars(select(QuizQuestion).where(QuizQuestion.category == "new"))
        }
        assert set(made) == set(cases)
        assert made["numeric"].answer == 2.5 and made["numeric"].tolerance == 0.1
        assert made["short"].accepted == ["alpha", "Alpha", "beta"] and made["short"].case_sensitive
        assert made["true_false"].answer == 1.0
        assert [o["correct"] for o in made["multiple"].options] == [True, True, False]
        assert made["single"].key == "q6" or made["single"].key.startswith("q")


@pytest.mark.parametrize(
    ("qtype", "data", "message"),
    [
        ("single", {"options-0-text": "x", "options-1-text": "y"}, "exactly one"),
        ("single", {"options-0-text": "x", "options-0-correct": "y"}, "at least two"),
        (
            "single",
            {
                "options-0-text": "x",
                "options-0-correct": "y",
                "options-1-text": "y",
                "options-1-correct": "y",
            },
            "exactly one",
        ),  # fmt: skip
        ("multiple", {"options-0-text": "x", "options-1-text": "y"}, "at least one"),
        ("numeric", {"answer": "pi"}, "number"),
        ("numeric", {"answer": "3", "tolerance": "-1"}, "cannot be negative"),
        ("true_false", {}, "true or false"),
        ("short", {"accepted": "  "}, "at least one accepted"),
        (
            "single",
            {"key": "q1", "options-0-text": "x", "options-0-correct": "y", "options-1-text": "y"},
            "already used",
        ),  # fmt: skip
    ],
)
def test_question_form_validation(app, client, world, qtype, data, message):
    login(client, "author@q.test")
    response = client.post(f"/quiz/course/{world.course_id}/questions/new/{qtype}",
                           data={"prompt": "Keep me", "points": "1", **data})  # fmt: skip
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in html and message in html
    assert "Keep me" in html  # what was typed is kept
    with app.app_context():
        assert db.session.query(QuizQuestion).count() == 5


def test_delete_question_in_use_is_refused(app, client, world):
    login(client, "author@q.test")
    with app.app_context():
        q1 = db.session.scalar(select(QuizQuestion).where(QuizQuestion.key == "q1"))
        qid = q1.id
    response = client.post(
        f"/quiz/course/{world.course_id}/questions/{qid}/delete", follow_redirects=True
    )
    assert "is used by “Check your understanding”" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(QuizQuestion, qid) is not None
        db.session.get(Quiz, world.quiz_id).question_keys = ["q2"]
        db.session.commit()
    response = client.post(f"/quiz/course/{world.course_id}/questions/{qid}/delete")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(QuizQuestion, qid) is None


def test_bank_edit_withdraws_signoffs(app, client, world):
    with app.app_context():
        course = db.session.get(Course, world.course_id)
        org_id = course.partners[0].organization_id
        db.session.add(
            CourseSignoff(
                course_id=course.id, organization_id=org_id, content_version=course.content_version
            )
        )
        db.session.commit()
        version = course.content_version
    login(client, "author@q.test")
    client.post(f"/quiz/course/{world.course_id}/questions/new/true_false",
                data={"prompt": "New?", "points": "1", "tf_answer": "false"})  # fmt: skip
    with app.app_context():
        course = db.session.get(Course, world.course_id)
        assert course.content_version == version + 1
        assert all(s.withdrawn_at is not None for s in course.signoffs)


def test_learner_cannot_edit_bank(client, world):
    login(client, "learner@q.test")
    response = client.post(
        f"/quiz/course/{world.course_id}/questions/new/single", data={"prompt": "x"}
    )
    assert response.status_code == 404


def test_quiz_with_no_questions_refuses_clearly(app, client, world):
    with app.app_context():
        db.session.get(Quiz, world.quiz_id).question_keys = []
        db.session.commit()
    login(client, "learner@q.test")
    response = client.post(f"/quiz/{world.quiz_id}/start")
    assert response.status_code == 400 and "no questions yet" in response.get_data(as_text=True)


def test_random_draw_from_category_is_stored_in_the_attempt(app, client, world):
    with app.app_context():
        course = db.session.get(Course, world.course_id)
        for i in range(6):
            f.make_question(course, f"r{i}", "true_false", category="drill", answer=True)
        quiz = db.session.get(Quiz, world.quiz_id)
        quiz.selection, quiz.question_keys = "random", []
        quiz.random_category, quiz.random_count = "drill", 4
        db.session.commit()
    login(client, "learner@q.test")
    attempt_id = start(client, world.quiz_id)
    first = client.get(f"/quiz/{world.quiz_id}/attempt/{attempt_id}").get_data(as_text=True)
    keys = re.findall(r'name="q-(r\d)" value="true"', first)
    assert len(keys) == 4 and len(set(keys)) == 4
    again = client.get(f"/quiz/{world.quiz_id}/attempt/{attempt_id}").get_data(as_text=True)
    assert re.findall(r'name="q-(r\d)" value="true"', again) == keys
    client.post(f"/quiz/{world.quiz_id}/attempt/{attempt_id}/submit",
                data={f"q-{k}": "true" for k in keys[:3]})  # fmt: skip
    with app.app_context():
        assert db.session.get(QuizAttempt, attempt_id).score == 75.0


def test_save_without_javascript_keeps_answers(app, client, world):
    login(client, "learner@q.test")
    attempt_id = start(client, world.quiz_id)
    response = client.post(f"/quiz/{world.quiz_id}/attempt/{attempt_id}/save",
                           data={"q-q4": "2.5", "q-q5": "mu"}, follow_redirects=True)  # fmt: skip
    html = response.get_data(as_text=True)
    assert "Your answers are saved" in html
    assert 'value="2.5"' in html and 'value="mu"' in html
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        assert attempt.state == "in_progress" and attempt.answers["q4"] == "2.5"


def test_edit_question_form_prefills_and_renames_key_in_quizzes(app, client, world):
    login(client, "author@q.test")
    with app.app_context():
        qid = db.session.scalar(select(QuizQuestion.id).where(QuizQuestion.key == "q2"))
    page = client.get(f"/quiz/course/{world.course_id}/questions/{qid}/edit").get_data(as_text=True)
    assert 'value="median"' in page and 'name="options-4-text"' in page  # 3 options + 2 spare rows
    response = client.post(
        f"/quiz/course/{world.course_id}/questions/{qid}/edit",
        data={"key": "q2-renamed", "prompt": "Pick all", "points": "2",
              "options-0-text": "mean", "options-0-correct": "y",
              "options-1-text": "median", "options-1-correct": "y",
              "options-2-text": "colour", "options-3-text": "mode", "options-3-correct": "y"},
    )  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        question = db.session.get(QuizQuestion, qid)
        assert question.key == "q2-renamed" and len(question.options) == 4
        assert db.session.get(Quiz, world.quiz_id).question_keys[1] == "q2-renamed"


def test_category_filter(client, world, app):
    with app.app_context():
        course = db.session.get(Course, world.course_id)
        f.make_question(course, "c1", "true_false", category="probability")
        db.session.commit()
    login(client, "author@q.test")
    html = client.get(f"/quiz/course/{world.course_id}/questions?category=probability").get_data(
        as_text=True
    )
    assert "<code>c1</code>" in html and "<code>q1</code>" not in html
    assert "Showing 1–1 of 1" in html


def test_locked_quiz_cannot_be_started(app, client, world):
    from lms.domain.models import ActivityCondition, Module

    with app.app_context():
        module = db.session.get(Module, world.module_id)
        lesson = f.make_lesson(module, "Read first", "Some text")
        db.session.add(ActivityCondition(activity_id=world.quiz_id, kind="completed",
                                         required_activity_id=lesson.id))  # fmt: skip
        db.session.commit()
    login(client, "learner@q.test")
    response = client.post(f"/quiz/{world.quiz_id}/start")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "Complete “Read first” first." in html, html[html.find("lede") :][:300]
    with app.app_context():
        assert db.session.query(QuizAttempt).count() == 0
