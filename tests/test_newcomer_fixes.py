"""Issue 8, "what a new user hit": the quiz form, numbers, HR assignment, notifications, exports
and wording. Each test failed before its fix."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from courses.quiz.grading import grade_question
from courses.quiz.models import Quiz, QuizAttempt, QuizQuestion
from courses.quiz.numbers import NumberProblem, read_number
from lms.config import config_from_env
from lms.domain.models import Course, Module
from lms.extensions import db
from lms.progress.models import Notification, Program, ProgramAssignment
from lms.progress.programs import ProgramData, assign_program, create_program
from lms.progress.services import record_activity_event
from lms.templating import format_grade
from lms.timeutil import utcnow
from tests.progress_factories import activities_of, make_course, make_org, make_user

COURSE = "python-for-production-data"
QUIZ = "Check: production data basics"


def _ids(app) -> dict:
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == COURSE))
        quiz = db.session.scalar(select(Quiz).where(Quiz.title == QUIZ))
        other = db.session.scalar(select(Course).where(Course.slug != COURSE))
        return {"course": course.id, "quiz": quiz.id, "module": quiz.module_id,
                "other_course": other.id}  # fmt: skip


# --- 17: SITE_URL follows PORT -----------------------------------------------------------------
def test_site_url_follows_port(monkeypatch, tmp_path):
    monkeypatch.delenv("SITE_URL", raising=False)
    monkeypatch.setenv("PORT", "5101")
    assert config_from_env(str(tmp_path))["SITE_URL"] == "http://127.0.0.1:5101"
    monkeypatch.delenv("PORT")
    assert config_from_env(str(tmp_path))["SITE_URL"] == "http://127.0.0.1:5000"
    monkeypatch.setenv("PORT", "5101")
    monkeypatch.setenv("SITE_URL", "https://lms.example.org")
    assert config_from_env(str(tmp_path))["SITE_URL"] == "https://lms.example.org"


# --- 15: the quiz form picks questions from the bank ------------------------------------------
def test_new_quiz_form_lists_the_bank_with_links_to_write_a_question(demo, client, auth):
    ids = _ids(demo)
    auth.login("trainer@uni.demo")
    html = client.get(
        f"/courses/{COURSE}/modules/{ids['module']}/activities/new?type=quiz"
    ).get_data(as_text=True)
    assert 'type="checkbox" name="type-question_keys" value="pd-ms"' in html
    assert "Machine M7 logs a cycle time" in html  # the question, not just its key
    assert f"/quiz/course/{ids['course']}/questions/new/numeric?for_module={ids['module']}" in html
    assert "separated by commas" not in html
    assert "a category of the question bank (cleaning, loading, summaries)" in html


def test_ticked_questions_make_the_quiz_in_the_order_given(demo, client, auth):
    ids = _ids(demo)
    auth.login("trainer@uni.demo")
    response = client.post(
        f"/courses/{COURSE}/modules/{ids['module']}/activities/new",
        data={"type": "quiz", "title": "Picked quiz", "completion_rule": "passed",
              "pass_mark": "50", "weight": "1", "type-selection": "fixed",
              "type-question_keys": ["pd-scrap", "pd-ms", "pd-scrap"],
              "type-feedback_mode": "immediate", "type-course_id": str(ids["other_course"])},
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with demo.app_context():
        quiz = db.session.scalar(select(Quiz).where(Quiz.title == "Picked quiz"))
        assert quiz.question_keys == ["pd-scrap", "pd-ms"]
    edit = client.get(response.headers["Location"]).get_data(as_text=True)
    picked = re.findall(r'value="(pd-[a-z]+)" id="type-question_keys-\d+" checked', edit)
    assert picked == ["pd-scrap", "pd-ms"]  # chosen first, in the quiz's order


def test_writing_a_question_from_the_quiz_form_adds_it_and_comes_back(demo, client, auth):
    ids = _ids(demo)
    auth.login("trainer@uni.demo")
    url = f"/quiz/course/{ids['course']}/questions/new/numeric?for_quiz={ids['quiz']}"
    form = client.get(url).get_data(as_text=True)
    assert f"Back to “{QUIZ}”" in form
    response = client.post(url, data={"key": "pd-new", "prompt": "How many?", "points": "1",
                                      "answer": "4", "tolerance": "0"})  # fmt: skip
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/activities/{ids['quiz']}/edit")
    with demo.app_context():
        assert db.session.get(Quiz, ids["quiz"]).question_keys[-1] == "pd-new"
    # A quiz of another course is not a place to come back to.
    other = f"/quiz/course/{ids['other_course']}/questions/new/numeric?for_quiz={ids['quiz']}"
    assert client.get(other).status_code == 404


# --- 20: numbers as people write them ----------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "values"),
    [("2 %", (2.0, 0.02)), ("42,5", (42.5,)), ("1 234,5", (1234.5,)), ("1,234.5", (1234.5,)),
     ("1.234,5", (1234.5,)), ("1\u202f234", (1234.0,)), ("9.81 m/s²", (9.81,)), ("€ 12", (12.0,)),
     ("1,234", (1.234, 1234.0)), ("-0,5 kg", (-0.5,)), ("1'000'000", (1e6,))],
)  # fmt: skip
def test_numbers_read_as_written(text, values):
    assert read_number(text).candidates() == values


@pytest.mark.parametrize("text", ["three", "1/2", "3 4", "0x10", "1.2.3", "2²", "1e999"])
def test_unreadable_numbers_say_why(text):
    with pytest.raises(NumberProblem):
        read_number(text)


def test_percent_and_units_are_right_answers():
    q = {"key": "x", "type": "numeric", "points": 1, "prompt": "", "answer": 2, "tolerance": 0}
    assert grade_question(q, "2 %").status == "correct"
    assert grade_question({**q, "answer": 0.02}, "2%").status == "correct"
    assert grade_question({**q, "answer": 1234.5}, "1 234,5 €").status == "correct"


def test_an_answer_that_is_not_a_number_is_refused_before_it_counts(demo, client, auth):
    ids = _ids(demo)
    auth.login("student@uni.demo")
    with demo.app_context():
        quiz = db.session.get(Quiz, ids["quiz"])
        quiz.conditions.clear()  # the demo locks it behind a lesson
        db.session.commit()
    start = client.post(f"/quiz/{ids['quiz']}/start")
    assert start.status_code == 302
    attempt_url = start.headers["Location"]
    attempt_id = int(attempt_url.rsplit("/", 1)[1])
    response = client.post(
        f"{attempt_url}/submit", data={"q-pd-ms": "about 42", "q-pd-scrap": "7 %"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "no attempt was used" in html and "is not a number" in html
    assert 'value="about 42"' in html  # what the learner typed is kept
    with demo.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        assert attempt.state == "in_progress" and attempt.score is None
        assert attempt.answers["pd-scrap"] == "7 %"
    done = client.post(f"{attempt_url}/submit", data={"q-pd-ms": "42,5 s", "q-pd-scrap": "7 %"})
    assert done.status_code == 302
    with demo.app_context():
        assert db.session.get(QuizAttempt, attempt_id).state == "finished"


# --- 19: HR assignment --------------------------------------------------------------------------
@pytest.fixture
def hr_world(app):
    with app.app_context():
        acme = make_org("acme")
        hr = make_user("hr@acme.test", "Hanna HR", acme, "hr")
        emps = [
            make_user(f"e{i}@acme.test", f"Emp {i}", acme, "learner", "Quality") for i in range(3)
        ]
        course = make_course("line-safety")
        program = create_program(acme, ProgramData("Line safety", "onboarding", "", [course.id],
                                 due_mode="relative", due_days=30), hr)  # fmt: skip
        db.session.commit()
        return {"program": program.id, "emps": [e.id for e in emps], "course": course.id}


def test_assignment_has_its_own_due_date_and_keeps_it(app, client, auth, hr_world):
    auth.login("hr@acme.test")
    page = client.get(f"/hr/acme/programs/{hr_world['program']}").get_data(as_text=True)
    assert 'data-shown-when="target=department"' in page and 'name="due_date"' in page
    due = (utcnow() + timedelta(days=5)).date()
    response = client.post(
        f"/hr/acme/programs/{hr_world['program']}",
        data={"target": "employees", "user_ids": [str(hr_world["emps"][0])],
              "due_date": due.isoformat()},
    )  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        program = db.session.get(Program, hr_world["program"])
        assign_program(program, [hr_world["emps"][1]], None)  # the program's due date
        db.session.commit()
    edit = client.post(
        f"/hr/acme/programs/{hr_world['program']}/edit",
        data={"name": "Line safety", "purpose": "onboarding", "course_ids": [str(hr_world["course"])],
              "completion_mode": "all", "due_mode": "relative", "due_days": "60"},
    )  # fmt: skip
    assert edit.status_code == 302
    with app.app_context():
        rows = {a.user_id: a for a in db.session.scalars(select(ProgramAssignment))}
        own, follower = rows[hr_world["emps"][0]], rows[hr_world["emps"][1]]
        assert own.due_at.date() == due and own.due_at.hour == 23
        assert follower.due_at - follower.assigned_at == timedelta(days=60)
    past = client.post(
        f"/hr/acme/programs/{hr_world['program']}",
        data={"target": "employees", "user_ids": [str(hr_world["emps"][2])],
              "due_date": "2001-01-01"},
    )  # fmt: skip
    assert past.status_code == 400 and "today or later" in past.get_data(as_text=True)


def test_program_form_reports_every_error_at_once(client, auth, hr_world):
    auth.login("hr@acme.test")
    response = client.post(
        "/hr/acme/programs/new",
        data={"name": "", "purpose": "onboarding", "completion_mode": "n_of",
              "due_mode": "fixed", "validity_months": "500"},
    )  # fmt: skip
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in ("Enter a name for the program.", "Choose at least one course",
                    "Enter how many of the chosen courses", "Enter the due date.",
                    "Validity is 1 to 120 months"):  # fmt: skip
        assert message in html, message
    # A field WTForms refuses shows its error next to the service's errors on the others.
    response = client.post("/hr/acme/programs/new",
                           data={"name": "", "purpose": "onboarding", "due_mode": "relative",
                                 "due_days": "soon"})  # fmt: skip
    html = response.get_data(as_text=True)
    assert "Not a valid integer value" in html and "Enter a name for the program." in html


# --- 21: a course certificate notifies the learner ----------------------------------------------
def test_completing_a_course_notifies_with_the_certificate(app, client, auth):
    with app.app_context():
        org = make_org("acme")
        user = make_user("emp@acme.test", "Marco Rossi", org, "learner")
        course = make_course("forklift-basics")
        from lms.domain.services import enrol_user

        enrol_user(user, course, "self")
        record_activity_event(user, activities_of(course)[0], "viewed")
        record_activity_event(user, activities_of(course)[0], "viewed")  # no second note
        db.session.commit()
        notes = db.session.scalars(select(Notification).where(Notification.user_id == user.id))
        notes = [n for n in notes if n.kind == "certificate_issued"]
        assert len(notes) == 1
        assert "you completed “Forklift Basics”" in notes[0].message.replace("forklift", "Forklift")
        assert notes[0].link.startswith("/certificates/")
    auth.login("emp@acme.test")
    assert client.get(notes[0].link).status_code == 200


# --- 22: Publish waits for every sign-off -------------------------------------------------------
def test_publish_is_disabled_with_the_reason_while_a_signoff_is_missing(demo, client, auth):
    auth.login("trainer@uni.demo")
    html = client.get("/courses/lean-manufacturing-shop-floor/review").get_data(as_text=True)
    assert re.search(
        r'<button class="btn btn--secondary" type="button" disabled[^>]*>Publish course', html
    )
    assert "Publishing opens once Acme Manufacturing has signed off" in html
    assert 'action="/courses/lean-manufacturing-shop-floor/publish"' not in html


# --- 24: grades with % ------------------------------------------------------------------------
def test_grades_are_written_with_percent():
    assert format_grade(87.456) == "87.5%" and format_grade(None) == "—"
    assert format_grade(70, 0) == "70%"


# --- 27: wording ---------------------------------------------------------------------------------
def test_lesson_editor_has_one_label_a_preview_and_no_https_image_promise(demo, client, auth):
    auth.login("trainer@uni.demo")
    with demo.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == COURSE))
        module = db.session.scalar(select(Module).where(Module.course_id == course.id))
        course_id, module_id = course.id, module.id
    html = client.get(f"/courses/{COURSE}/modules/{module_id}/activities/new?type=lesson").get_data(
        as_text=True
    )
    assert html.count("Lesson content") == 1
    assert f'data-preview-url="/lesson/preview/{course_id}"' in html
    assert "served over https" not in html
    preview = client.post(f"/lesson/preview/{course_id}",
                          data={"body": "**Bold** <script>x()</script> ![c](https://e.example/c.png)"})  # fmt: skip
    body = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "<strong>Bold</strong>" in body
    assert "<script" not in body and 'src="https://' not in body
    auth.logout()
    auth.login("student@uni.demo")
    assert client.post(f"/lesson/preview/{course_id}", data={"body": "x"}).status_code == 404


def test_question_bank_shows_markdown_rendered(demo, client, auth):
    ids = _ids(demo)
    with demo.app_context():
        question = db.session.scalar(select(QuizQuestion).where(QuizQuestion.key == "pd-ms"))
        question.prompt = "Machine **M7** logs `ms`."
        db.session.commit()
    auth.login("trainer@uni.demo")
    html = client.get(f"/quiz/course/{ids['course']}/questions").get_data(as_text=True)
    assert "**M7**" not in html and "<strong>M7</strong>" in html


def test_learner_pages_name_no_environment_variables(demo, client, auth):
    auth.login("student@uni.demo")
    html = client.get("/xapi/").get_data(as_text=True)
    assert "LRS_ENDPOINT" not in html and "no external Learning Record Store" in html
    auth.logout()
    auth.login("admin@cluster.demo")
    assert "LRS_ENDPOINT" in client.get("/xapi/").get_data(as_text=True)


def test_empty_dashboard_links_to_the_catalog(app, client, auth):
    with app.app_context():
        make_user("new@acme.test", "New Person", make_org("acme"), "learner")
        db.session.commit()
    auth.login("new@acme.test")
    html = client.get("/dashboard").get_data(as_text=True)
    assert re.search(
        r'<a class="btn btn--primary" href="/courses/[^"]*">Browse the catalog</a>', html
    )


def test_site_admin_can_invite_from_people(demo, client, auth):
    auth.login("admin@cluster.demo")
    html = client.get("/admin/site/users").get_data(as_text=True)
    assert 'action="/admin/site/invite"' in html and "Invite someone" in html
    response = client.get("/admin/site/invite?org=acme")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/org/acme/invitations#invite")
    refused = client.get("/admin/site/invite?org=")
    assert refused.status_code == 302 and refused.headers["Location"].endswith("/admin/site/users")
    auth.logout()
    auth.login("student@uni.demo")
    assert client.get("/admin/site/invite?org=acme").status_code in (403, 404)


def test_demo_quiz_has_the_time_limit_the_readme_promises(demo):
    with demo.app_context():
        assert db.session.scalar(select(Quiz).where(Quiz.title == QUIZ)).time_limit_minutes == 15


def test_favicon_ico_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert b"<svg" in response.data
