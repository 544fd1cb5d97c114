"""Learner and trainer pages: My learning, notifications, the completion report and overrides."""

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.domain.services import enrol_user
from lms.extensions import db
from lms.progress.models import ActivityCompletion, CourseCompletion
from lms.progress.programs import ProgramData, assign_program, create_program
from lms.progress.services import record_activity_event
from lms.skills.services import cluster_skills_for_labels, set_course_outcomes
from lms.timeutil import utcnow
from tests.progress_factories import activities_of, make_course, make_org, make_user


@pytest.fixture
def setup(app):
    with app.app_context():
        acme, uni = make_org("acme"), make_org("northfield", "university", ())
        make_user("trainer@uni.test", "Tomas Trainer", uni, "trainer")
        hr = make_user("hr@acme.test", "Hanna HR", acme, "hr")
        emp = make_user("emp@acme.test", "Marco Rossi", acme, "learner", "Production")
        other = make_user("other@acme.test", "Lena Vogel", acme, "learner", "Quality")
        done = make_course("done-course", partner=uni)
        set_course_outcomes(
            done, [(cluster_skills_for_labels(["Statistical process control"])[0], 2)]
        )
        late = make_course("late-course", [("viewed", None, 1, True), ("submitted", None, 1, True)],
                           partner=uni)  # fmt: skip
        program = create_program(acme, ProgramData("Industry 4.0", "upskilling", "",
                                 [late.id], due_mode="relative", due_days=10), hr)  # fmt: skip
        assign_program(program, [emp.id, other.id], hr, utcnow() - timedelta(days=20))
        enrol_user(emp, done, "self")
        record_activity_event(emp, activities_of(done)[0], "viewed")
        record_activity_event(emp, activities_of(late)[0], "viewed")
        db.session.commit()
        return {"late": late.slug, "late_id": late.id, "emp": emp.id, "other": other.id,
                "activity": activities_of(late)[1].id}  # fmt: skip


def test_my_learning(client, auth, setup):
    auth.login("emp@acme.test")
    html = client.get("/learning").get_data(as_text=True)
    assert 'role="progressbar"' in html and 'aria-valuenow="50"' in html and "50%" in html
    assert re.search(r"Next: (<a [^>]*>)?Activity 2", html)
    assert "Overdue" in html and "due--overdue" in html
    assert "Done Course" in html  # completed
    assert "Statistical process control" in html
    nav = client.get("/dashboard").get_data(as_text=True)
    assert "My learning" in nav and re.search(r"Next: (<a [^>]*>)?Activity 2", nav)


def test_my_learning_empty_state(client, auth, app):
    with app.app_context():
        make_user("new@acme.test", "New Person", make_org("acme"), "learner")
        db.session.commit()
    auth.login("new@acme.test")
    html = client.get("/learning").get_data(as_text=True)
    assert "You have no current courses." in html


def test_notifications_page_and_mark_read(client, auth, setup):
    auth.login("emp@acme.test")
    html = client.get("/notifications").get_data(as_text=True)
    assert "You have been assigned “Industry 4.0”" in html
    response = client.post("/notifications/read")
    assert response.status_code == 302
    # The assignment, the certificate and the course evaluation invitation (cluster surveys).
    assert "Marked 3 notifications as read." in client.get("/notifications").get_data(as_text=True)


def test_trainer_report_matrix_and_csv(client, auth, setup):
    auth.login("trainer@uni.test")
    html = client.get(f"/courses-report/{setup['late']}").get_data(as_text=True)
    assert "Marco Rossi" in html and "Lena Vogel" in html
    assert "Completed" in html and "Override" in html
    response = client.get(f"/courses-report/{setup['late']}.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["Learner", "Email", "Course state"]
    by_name = {r[0]: r for r in rows[1:]}
    # Statuses in words, as the pages show them; grades under a "%" header.
    assert rows[0][4] == "Course grade %" and rows[0][6].endswith(": grade %")
    assert by_name["Marco Rossi"][2] == "In progress" and by_name["Marco Rossi"][5] == "Completed"
    assert by_name["Lena Vogel"][2] == "Not started"


def test_trainer_report_hidden_from_others(client, auth, setup):
    auth.login("hr@acme.test")
    assert client.get(f"/courses-report/{setup['late']}").status_code == 404
    assert client.get(f"/courses-report/{setup['late']}.csv").status_code == 404
    assert client.get("/courses-report/nope").status_code == 404


def test_override_with_reason_completes_course_and_program(client, auth, setup, app):
    auth.login("trainer@uni.test")
    url = f"/courses-report/{setup['late']}/override/{setup['emp']}/{setup['activity']}"
    assert client.get(url).status_code == 200
    missing = client.post(url, data={"state": "completed", "reason": ""})
    assert missing.status_code == 400 and b"Give a reason" in missing.data
    ok = client.post(url, data={"state": "completed", "reason": "Assessed in the workshop"})
    assert ok.status_code == 302
    with app.app_context():
        row = db.session.scalar(
            select(ActivityCompletion).where(ActivityCompletion.activity_id == setup["activity"])
        )
        assert row.completed and row.override_reason == "Assessed in the workshop"
        state = db.session.scalar(
            select(CourseCompletion.state).where(
                CourseCompletion.user_id == setup["emp"],
                CourseCompletion.course_id == setup["late_id"],
            )
        )
        assert state == "completed"
    auth.logout()
    auth.login("hr@acme.test")
    dashboard = client.get("/hr/acme/").get_data(as_text=True)
    assert "1 completed" in dashboard


def test_recompute_button_and_command(client, auth, setup, runner):
    auth.login("trainer@uni.test")
    response = client.post(f"/courses-report/{setup['late']}/recompute")
    assert response.status_code == 302
    assert "Completion recomputed" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    result = runner.invoke(args=["progress", "recompute", "--course", setup["late"]])
    assert result.exit_code == 0 and "late-course: 2 learners" in result.output
    bad = runner.invoke(args=["progress", "recompute", "--course", "nope"])
    assert bad.exit_code != 0


def test_remind_command_is_idempotent(runner, setup):
    first = runner.invoke(args=["progress", "remind"])
    assert first.exit_code == 0 and "2 reminder(s) sent" in first.output
    second = runner.invoke(args=["progress", "remind"])
    assert "0 reminder(s) sent" in second.output


def test_notification_badge_in_top_bar(client, auth, setup):
    auth.login("emp@acme.test")
    html = client.get("/learning").get_data(as_text=True)
    # The assignment, the certificate of the course the employee completed and its evaluation.
    assert 'class="badge">3<span class="visually-hidden"> unread' in html


def test_trainer_dashboard_panel_links_reports(client, auth, setup):
    auth.login("trainer@uni.test")
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Course reports" in html and f"/courses-report/{setup['late']}" in html
