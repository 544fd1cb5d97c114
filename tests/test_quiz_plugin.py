"""The quiz plugin's interface: settings form, render, summary, completion and the archive."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from courses.quiz.attempts import start_attempt, submit_attempt
from courses.quiz.forms import QuizSettingsForm
from courses.quiz.models import Quiz, QuizQuestion
from lms.domain.models import Course
from lms.errors import DomainError
from lms.extensions import db
from lms.plugins import activity_type
from lms.progress.models import ActivityCompletion
from tests import factories as f

BANK = {
    "questions": [
        {"key": "q1", "type": "single", "category": "basics", "prompt": "Pick **B**", "points": 1,
         "feedback": "B is right.", "options": [{"text": "A", "correct": False, "feedback": "no"},
                                                {"text": "B", "correct": True, "feedback": ""}]},
        {"key": "q2", "type": "multiple", "category": "basics", "prompt": "Pick all", "points": 2,
         "feedback": "", "options": [{"text": "x", "correct": True, "feedback": ""},
                                     {"text": "y", "correct": True, "feedback": ""},
                                     {"text": "z", "correct": False, "feedback": ""}]},
        {"key": "q3", "type": "true_false", "category": "basics", "prompt": "True?", "points": 1,
         "feedback": "", "answer": True},
        {"key": "q4", "type": "numeric", "category": "calc", "prompt": "pi", "points": 1.5,
         "feedback": "", "answer": 3.14159, "tolerance": 0.001},
        {"key": "q5", "type": "short", "category": "calc", "prompt": "Name", "points": 1,
         "feedback": "", "accepted": ["Gauss", "C. F. Gauss"], "case_sensitive": True},
    ]
}  # fmt: skip


@pytest.fixture
def world(app):
    with app.app_context():
        uni = f.make_org("uni-p")
        author = f.make_user("author@p.test", uni, "trainer")
        learner = f.make_user("learner@p.test", uni, "learner")
        course = f.make_course(uni, title="Archive")
        module = f.make_module(course)
        activity_type("quiz").import_course_data(course, BANK, {})
        quiz = f.make_quiz(module, question_keys=["q1", "q2", "q3"], pass_mark=70.0)
        f.enrol(learner, course)
        db.session.commit()
        return SimpleNamespace(course_id=course.id, module_id=module.id, quiz_id=quiz.id,
                               author_id=author.id, learner_id=learner.id)  # fmt: skip


def test_plugin_declares_interface(app):
    with app.app_context():
        plugin = activity_type("quiz")
        assert plugin.completion_rules == ("none", "viewed", "submitted", "passed")
        assert plugin.graded is True and plugin.model is Quiz
        assert plugin.form is QuizSettingsForm


def test_bank_archive_round_trip(app, world):
    with app.app_context():
        plugin = activity_type("quiz")
        course = db.session.get(Course, world.course_id)
        assert plugin.export_course_data(course, {}) == {
            "questions": sorted(BANK["questions"], key=lambda q: (q["category"], q["key"]))
        }
        other = f.make_course(f.make_org("other-p"))
        plugin.import_course_data(other, plugin.export_course_data(course, {}), {})
        assert plugin.export_course_data(other, {}) == plugin.export_course_data(course, {})
        assert plugin.export_course_data(f.make_course(f.make_org("empty-p")), {}) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"questions": [{"key": "a", "type": "essay", "prompt": "x"}]}, "unknown type"),
        ({"questions": [{"key": "a", "type": "single", "prompt": "x"}]}, "list of options"),
        ({"questions": [{"key": "a", "type": "numeric", "prompt": "x"}]}, "number"),
        ({"questions": [{"type": "short", "prompt": "x", "accepted": ["a"]}]}, "#1"),
        ({"questions": [{"key": "a", "type": "true_false", "prompt": "x", "answer": True}] * 2}, "twice"),
        ({"questions": [{"key": "q1", "type": "true_false", "prompt": "x", "answer": True}]}, "already exists"),
        ({"questions": "nope"}, "questions"),
        ([], "questions"),
    ],
)  # fmt: skip
def test_bank_import_refuses_bad_data_and_writes_nothing(app, world, data, message):
    with app.app_context():
        course = db.session.get(Course, world.course_id)
        with pytest.raises(ValueError, match=message):
            activity_type("quiz").import_course_data(course, data, {})
        assert db.session.query(QuizQuestion).count() == 5


def test_quiz_content_round_trip(app, world):
    with app.app_context():
        plugin = activity_type("quiz")
        quiz = db.session.get(Quiz, world.quiz_id)
        content = plugin.export_content(quiz, {})
        assert content == {"question_keys": ["q1", "q2", "q3"], "pass_mark": 70.0,
                           "attempts_allowed": None, "time_limit_minutes": None, "shuffle": False,
                           "feedback_mode": "immediate"}  # fmt: skip
        random_content = {"random": {"category": "calc", "count": 2}, "pass_mark": 80,
                          "attempts_allowed": 3, "time_limit_minutes": 20, "shuffle": True,
                          "feedback_mode": "on_release"}  # fmt: skip
        copy = plugin.new_activity(course_id=world.course_id, module_id=world.module_id, title="R")
        plugin.import_content(copy, random_content, {})
        db.session.add(copy)
        db.session.flush()
        assert plugin.export_content(copy, {}) == {**random_content, "pass_mark": 80.0}


@pytest.mark.parametrize(
    ("content", "message"),
    [({"question_keys": ["q1", "nope"]}, "unknown question key"),
     ({"random": {"category": "calc", "count": 3}}, "fewer than"),
     ({"random": {"category": "missing", "count": 1}}, "fewer than"),
     ({"question_keys": ["q1"], "feedback_mode": "never"}, "feedback_mode")],
)  # fmt: skip
def test_quiz_content_import_refuses(app, world, content, message):
    with app.app_context():
        plugin = activity_type("quiz")
        quiz = plugin.new_activity(course_id=world.course_id, module_id=world.module_id, title="Q")
        with pytest.raises(ValueError, match=message):
            plugin.import_content(quiz, content, {})


def test_settings_form_validates_against_bank(app, world):
    with app.test_request_context(method="POST", data={
        "course_id": str(world.course_id), "selection": "fixed", "question_keys": "q1, q9",
        "feedback_mode": "immediate"}):  # fmt: skip
        form = QuizSettingsForm()
        assert not form.validate()
        assert "Unknown question key(s): q9." in form.question_keys.errors
    with app.test_request_context(method="POST", data={
        "course_id": str(world.course_id), "selection": "random", "random_category": "calc",
        "random_count": "5", "feedback_mode": "score"}):  # fmt: skip
        form = QuizSettingsForm()
        assert not form.validate()
        assert form.random_count.errors
    with app.test_request_context(method="POST", data={
        "course_id": str(world.course_id), "selection": "fixed", "question_keys": "q3 q1",
        "attempts_allowed": "2", "time_limit_minutes": "15", "shuffle": "y",
        "feedback_mode": "on_release"}):  # fmt: skip
        form = QuizSettingsForm()
        assert form.validate(), form.errors
        quiz = db.session.get(Quiz, world.quiz_id)
        author = db.session.get(f.User, world.author_id)
        version = quiz.course.content_version
        activity_type("quiz").apply_form(quiz, form.data, author)
        assert quiz.question_keys == ["q3", "q1"] and quiz.pass_mark == 70.0  # not the form's
        assert quiz.attempts_allowed == 2 and quiz.time_limit_minutes == 15 and quiz.shuffle
        assert quiz.feedback_mode == "on_release"
        assert quiz.course.content_version == version + 1
        data = activity_type("quiz").form_data(quiz)
        assert data["question_keys"] == ["q3", "q1"] and "pass_mark" not in data
        with pytest.raises(DomainError, match="unknown question key"):
            activity_type("quiz").apply_form(quiz, {**data, "question_keys": "zz"}, author)


def test_graded_attempt_records_completion_and_summary(app, world):
    with app.test_request_context():
        quiz = db.session.get(Quiz, world.quiz_id)
        quiz.completion_rule = "passed"
        learner = db.session.get(f.User, world.learner_id)
        plugin = activity_type("quiz")
        attempt = start_attempt(quiz, learner)
        submit_attempt(attempt, {"q1": 1, "q2": [0], "q3": True})  # 1 + 1 + 1 of 4 = 75%
        db.session.commit()
        completion = db.session.scalar(select(ActivityCompletion))
        assert completion.grade == 75.0 and completion.completed
        assert plugin.learner_summary(quiz, learner) == {
            "best_grade": 75.0, "attempts_used": 1, "attempts_allowed": None, "passed": True}  # fmt: skip
        html = str(plugin.render(quiz, learner))
        assert "Start attempt" in html and "75.0%" in html and "Your attempts" in html
        second = start_attempt(quiz, learner)
        submit_attempt(second, {"q1": 0})
        assert plugin.learner_summary(quiz, learner)["best_grade"] == 75.0
        assert db.session.scalar(select(ActivityCompletion)).grade == 75.0


def test_render_for_author_and_not_enrolled(app, world):
    with app.test_request_context():
        quiz = db.session.get(Quiz, world.quiz_id)
        author = db.session.get(f.User, world.author_id)
        html = str(activity_type("quiz").render(quiz, author))
        assert "Preview quiz" in html and "Question bank" in html
        links = activity_type("quiz").author_links(quiz)
        assert links == [("Question bank", f"/quiz/course/{world.course_id}/questions"),
                         ("Results", f"/quiz/{world.quiz_id}/results")]  # fmt: skip
        stranger = f.make_user("s@p.test", f.make_org("s-p"), "learner")
        assert "Enrol in the course" in str(activity_type("quiz").render(quiz, stranger))


def test_summary_hides_grade_until_released(app, world):
    with app.test_request_context():
        quiz = db.session.get(Quiz, world.quiz_id)
        quiz.feedback_mode = "on_release"
        learner = db.session.get(f.User, world.learner_id)
        submit_attempt(start_attempt(quiz, learner), {"q1": 1})
        summary = activity_type("quiz").learner_summary(quiz, learner)
        assert summary["best_grade"] is None and summary["attempts_used"] == 1
        quiz.results_released_at = quiz.created_at
        assert activity_type("quiz").learner_summary(quiz, learner)["best_grade"] == 25.0
