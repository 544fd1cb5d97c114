"""The lab activity through the app: learner pages, submissions, permissions, authoring.

Grading goes through the real sandbox (``LAB_EXECUTOR=inline``: graded inside the request).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from lms.domain.models import Course
from lms.extensions import db
from lms.progress.models import ActivityCompletion
from tests.factories import enrol, make_course, make_lab, make_module, make_org, make_user
from virtual_labs import views
from virtual_labs.models import Lab, LabSubmission, LabTest

RIGHT = "a, b = map(int, input().split())\nprint(a + b)\n"
WRONG = "a, b = map(int, input().split())\nprint(a * b)\n"
SECRET_REFERENCE = "a, b = map(int, input().split())\nprint(a + b)  # reference-only-marker\n"
JSON = {"Accept": "application/json", "X-Requested-With": "fetch"}


@pytest.fixture
def world(app):
    with app.app_context():
        org = make_org()
        trainer = make_user(org=org, role="trainer")
        learner = make_user(org=org)
        visitor = make_user(org=org)  # same organization, not enrolled
        outsider = make_user(org=make_org())
        course = make_course(org)
        lab = make_lab(make_module(course), reference=SECRET_REFERENCE)
        enrol(learner, course)
        db.session.commit()
        return SimpleNamespace(
            lab_id=lab.id,
            course_id=course.id,
            trainer=trainer.email,
            learner=learner.email,
            learner_id=learner.id,
            visitor=visitor.email,
            outsider=outsider.email,
        )


def submit(client, lab_id, code, kind="submit", headers=JSON):
    return client.post(
        f"/labs/{lab_id}/submissions", data={"kind": kind, "file:main.py": code}, headers=headers
    )


def test_lab_page_shows_instructions_and_editor_but_never_the_reference(client, auth, world):
    auth.login(world.learner)
    page = client.get(f"/labs/{world.lab_id}").get_data(as_text=True)
    assert "<strong>sum</strong>" in page  # Markdown rendered
    assert 'name="file:main.py"' in page and 'data-editor-mode="python"' in page
    assert "reference-only-marker" not in page
    assert "1 visible test, 1 hidden" in page
    assert "vendor/codemirror/lib/codemirror.js" in page
    assert "No submissions yet" in page


@pytest.mark.sandbox
def test_wrong_then_right_submission_completes_the_lab(app, client, auth, world):
    auth.login(world.learner)
    resp = submit(client, world.lab_id, WRONG)
    assert resp.status_code == 202
    data = resp.get_json()
    assert data["done"] and data["verdict"] == "wrong_answer" and data["score"] == 0
    assert "Small numbers" in data["html"] and "Expected" in data["html"]
    assert "<mark>5</mark>" in data["html"] and "<mark>6</mark>" in data["html"]
    # The hidden test shows pass/fail only: never its input or expected output.
    assert "Negative numbers" in data["html"] and "-3" not in data["html"]

    resp = submit(client, world.lab_id, RIGHT)
    data = resp.get_json()
    assert data["verdict"] == "accepted" and data["score"] == 100
    assert data["best_score"] == 100
    with app.app_context():
        row = db.session.scalar(
            select(ActivityCompletion).where(ActivityCompletion.activity_id == world.lab_id)
        )
        assert row.completed and row.grade == 100 and row.attempts == 2
        subs = db.session.scalars(select(LabSubmission).order_by(LabSubmission.id)).all()
        assert [s.status for s in subs] == ["done", "done"] and all(s.counted for s in subs)
        assert subs[1].report["tests"][0]["verdict"] == "accepted"


@pytest.mark.sandbox
def test_run_checks_visible_tests_only_and_is_not_graded(app, client, auth, world):
    auth.login(world.learner)
    data = submit(client, world.lab_id, RIGHT, kind="run").get_json()
    assert data["kind"] == "run" and data["verdict"] == "accepted"
    assert "Negative numbers" not in data["html"]
    with app.app_context():
        sub = db.session.get(LabSubmission, data["id"])
        assert [t["name"] for t in sub.report["tests"]] == ["Small numbers"]
        assert not sub.counted
        assert db.session.scalar(select(ActivityCompletion)) is None


@pytest.mark.sandbox
def test_form_post_without_javascript_redirects_to_the_submission_page(client, auth, world):
    auth.login(world.learner)
    resp = submit(client, world.lab_id, WRONG, headers={})
    assert resp.status_code == 302 and "/labs/submissions/" in resp.headers["Location"]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Wrong answer" in page and "print(a * b)" in page  # the code sent is shown
    # ...and the lab page lists it in the history with the best score.
    lab_page = client.get(f"/labs/{world.lab_id}").get_data(as_text=True)
    assert "Best score" in lab_page and "View code and results" in lab_page


def test_one_run_in_flight_and_a_per_minute_limit(app, client, auth, world):
    app.config["LAB_RATE_PER_MINUTE"] = 3
    with app.app_context():
        db.session.add(
            LabSubmission(lab_id=world.lab_id, user_id=world.learner_id, files={}, status="queued")
        )
        db.session.commit()
    auth.login(world.learner)
    resp = submit(client, world.lab_id, RIGHT)
    assert resp.status_code == 429
    assert "still being checked" in resp.get_json()["detail"]
    with app.app_context():
        for sub in db.session.scalars(select(LabSubmission)):
            sub.status = "done"
        for _ in range(2):
            db.session.add(
                LabSubmission(
                    lab_id=world.lab_id, user_id=world.learner_id, files={}, status="done"
                )
            )
        db.session.commit()
    resp = submit(client, world.lab_id, RIGHT)
    assert resp.status_code == 429
    assert "3 times in the last minute" in resp.get_json()["detail"]
    # Without JavaScript the same message comes back as a flash on the lab page.
    resp = submit(client, world.lab_id, RIGHT, headers={})
    assert resp.status_code == 302
    assert "in the last minute" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_enrolment_is_required_to_submit(client, auth, world):
    auth.login(world.visitor)
    # Not even the instructions: the page sends them to the course to enrol (issue 8, item 7).
    assert client.get(f"/labs/{world.lab_id}").status_code == 302
    resp = submit(client, world.lab_id, RIGHT)
    assert resp.status_code == 403 and "Enrol" in resp.get_json()["detail"]


def test_people_outside_the_course_get_404(app, client, auth, world):
    with app.app_context():
        sub = LabSubmission(lab_id=world.lab_id, user_id=world.learner_id, files={"main.py": "x"})
        db.session.add(sub)
        db.session.commit()
        sub_id = sub.id
    auth.login(world.outsider)
    assert client.get(f"/labs/{world.lab_id}").status_code == 404
    assert submit(client, world.lab_id, RIGHT).status_code == 404
    assert client.get(f"/labs/submissions/{sub_id}.json").status_code == 404
    auth.logout()
    auth.login(world.visitor)  # sees the course, but not someone else's submission
    assert client.get(f"/labs/submissions/{sub_id}").status_code == 404
    auth.logout()
    auth.login(world.trainer)  # the course's trainer reviews learners' code
    assert client.get(f"/labs/submissions/{sub_id}.json").get_json()["status"] == "queued"


def test_sandbox_unavailable_disables_labs_with_a_clear_message(client, auth, world, monkeypatch):
    monkeypatch.setattr(views, "sandbox_state", lambda: (False, "bubblewrap is not installed"))
    auth.login(world.learner)
    page = client.get(f"/labs/{world.lab_id}").get_data(as_text=True)
    assert "Labs are temporarily unavailable" in page
    assert "labs selftest" not in page  # operator details are for staff only
    resp = submit(client, world.lab_id, RIGHT)
    assert resp.status_code == 503 and "temporarily unavailable" in resp.get_json()["detail"]
    auth.logout()
    auth.login(world.trainer)
    page = client.get(f"/labs/{world.lab_id}").get_data(as_text=True)
    assert "bubblewrap is not installed" in page and "labs selftest" in page


def test_learners_cannot_open_authoring_pages(client, auth, world):
    auth.login(world.learner)
    assert client.get(f"/labs/{world.lab_id}/tests").status_code == 403
    assert client.get(f"/labs/{world.lab_id}/edit").status_code == 403
    assert client.post(f"/labs/{world.lab_id}/validate").status_code == 403


@pytest.mark.sandbox
def test_adding_a_test_the_reference_fails_is_refused(app, client, auth, world):
    auth.login(world.trainer)
    form = {
        "name": "Big numbers",
        "kind": "io",
        "stdin": "1000000 2\n",
        "expected": "1000003\n",  # wrong on purpose
        "compare": "trailing_ws",
        "tolerance": "0.000001",
        "weight": "1",
        "args": "",
        "hidden": "y",
    }
    resp = client.post(f"/labs/{world.lab_id}/tests/new", data=form)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "the reference solution fails “Big numbers”" in page
    # Authors see the details of hidden tests too (learners never do).
    assert "100000<mark>2</mark>" in page and "(hidden from learners)" in page
    with app.app_context():
        assert db.session.scalar(select(LabTest).where(LabTest.name == "Big numbers")) is None
        version = db.session.get(Course, world.course_id).content_version
    form["expected"] = "1000002\n"
    resp = client.post(f"/labs/{world.lab_id}/tests/new", data=form)
    assert resp.status_code == 302
    with app.app_context():
        lab = db.session.get(Lab, world.lab_id)
        assert [t.name for t in lab.tests][-1] == "Big numbers" and lab.tests[-1].hidden
        assert lab.validation_status == "valid"
        assert db.session.get(Course, world.course_id).content_version == version + 1
    page = client.get(f"/labs/{world.lab_id}/tests").get_data(as_text=True)
    assert "Big numbers" in page and "Run reference solution" in page


@pytest.mark.sandbox
def test_settings_save_is_refused_when_the_reference_breaks_a_test(app, client, auth, world):
    auth.login(world.trainer)
    page = client.get(f"/labs/{world.lab_id}/edit").get_data(as_text=True)
    assert "reference-only-marker" in page  # authors see the reference solution
    form = {
        "instructions": "Print the sum.",
        "language": "python",
        "cpu_s": "2",
        "wall_s": "5",
        "memory_mb": "256",
        "procs": "16",
        "output_kb": "64",
        "starter_files-0-name": "main.py",
        "starter_files-0-content": "",
        "reference_files-0-name": "main.py",
        "reference_files-0-content": WRONG,
    }
    resp = client.post(f"/labs/{world.lab_id}/edit", data=form)
    assert resp.status_code == 400
    assert resp.get_data(as_text=True).count("Not saved: the reference solution fails") == 1
    with app.app_context():
        assert (
            "reference-only-marker" in db.session.get(Lab, world.lab_id).reference_files["main.py"]
        )
    form["reference_files-0-content"] = RIGHT
    form["cpu_s"] = "99"  # out of bounds
    assert client.post(f"/labs/{world.lab_id}/edit", data=form).status_code == 400
    form["cpu_s"] = "1.5"
    assert client.post(f"/labs/{world.lab_id}/edit", data=form).status_code == 302
    with app.app_context():
        lab = db.session.get(Lab, world.lab_id)
        assert lab.reference_files == {"main.py": RIGHT} and lab.cpu_s == 1.5
        assert lab.instructions == "Print the sum."


def test_tests_can_be_reordered_and_deleted(app, client, auth, world):
    auth.login(world.trainer)
    with app.app_context():
        first, second = db.session.get(Lab, world.lab_id).tests
        first_id, second_id = first.id, second.id
    client.post(f"/labs/{world.lab_id}/tests/{second_id}/move", data={"direction": "up"})
    with app.app_context():
        assert [t.id for t in db.session.get(Lab, world.lab_id).tests] == [second_id, first_id]
    client.post(f"/labs/{world.lab_id}/tests/{second_id}/delete")
    with app.app_context():
        tests = db.session.get(Lab, world.lab_id).tests
        assert [(t.id, t.position) for t in tests] == [(first_id, 0)]


def test_learner_summary_counts_graded_submissions(app, world):
    from lms.models import User
    from virtual_labs.plugin import LabType

    with app.app_context():
        lab = db.session.get(Lab, world.lab_id)
        user = db.session.get(User, world.learner_id)
        for kind, score in (("submit", 40.0), ("submit", 90.0), ("run", 100.0)):
            db.session.add(
                LabSubmission(
                    lab_id=lab.id,
                    user_id=user.id,
                    files={},
                    kind=kind,
                    status="done",
                    score=score,
                    verdict="accepted",
                )
            )
        db.session.flush()
        summary = LabType().learner_summary(lab, user)
        assert summary["best_score"] == 90.0 and summary["submissions"] == 2
        assert summary["runs"] == 1


@pytest.mark.sandbox
def test_labs_are_created_and_edited_through_the_course_activity_form(app, client, auth, world):
    with app.app_context():
        lab = db.session.get(Lab, world.lab_id)
        slug, module_id = lab.course.slug, lab.module_id
    auth.login(world.trainer)
    form = {
        "type": "lab",
        "title": "Lab: hello",
        "completion_rule": "passed",
        "pass_mark": "100",
        "weight": "1",
        "required": "y",
        "type-instructions": "Print *hello*.",
        "type-language": "python",
        "type-cpu_s": "2",
        "type-wall_s": "5",
        "type-memory_mb": "256",
        "type-procs": "16",
        "type-output_kb": "64",
        "type-starter_code": "",
        "type-reference_code": "print('hello')\n",
    }
    page = client.get(f"/courses/{slug}/modules/{module_id}/activities/new?type=lab")
    assert page.status_code == 200 and "Reference solution" in page.get_data(as_text=True)
    resp = client.post(f"/courses/{slug}/modules/{module_id}/activities/new", data=form)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with app.app_context():
        new = db.session.scalar(select(Lab).where(Lab.title == "Lab: hello"))
        assert new.reference_files == {"main.py": "print('hello')\n"}
        assert new.starter_files == {"main.py": ""} and new.tests == []
        new.tests.append(LabTest(name="Greets", stdin="", expected="hello\n", position=0))
        db.session.commit()
        new_id = new.id
    # With a test in place, a reference solution that fails it is refused on save.
    form["type-reference_code"] = "print('bye')\n"
    resp = client.post(f"/courses/{slug}/activities/{new_id}/edit", data=form)
    assert resp.status_code == 400
    assert "the reference solution fails “Greets”" in resp.get_data(as_text=True)
    form["type-reference_code"] = "print('hello')  # v2\n"
    assert client.post(f"/courses/{slug}/activities/{new_id}/edit", data=form).status_code == 302
    with app.app_context():
        edited = db.session.get(Lab, new_id)
        assert "v2" in edited.reference_files["main.py"] and edited.validation_status == "valid"
    # The course's activity page embeds the lab's column, with the editor and the buttons.
    learner_page = client.get(f"/courses/{slug}/activities/{new_id}").get_data(as_text=True)
    assert 'name="file:main.py"' in learner_page and "Submit for grading" in learner_page


def test_site_admins_are_told_on_the_dashboard_when_labs_are_disabled(
    app, client, auth, monkeypatch
):
    from tests.factories import make_user

    with app.app_context():
        admin = make_user(is_site_admin=True)
        learner = make_user(org=make_org())
        db.session.commit()
        emails = admin.email, learner.email
    monkeypatch.setattr(views, "sandbox_state", lambda: (False, "bwrap is not installed"))
    auth.login(emails[0])
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Virtual labs are disabled" in page and "bwrap is not installed" in page
    assert "labs selftest" in page
    auth.logout()
    auth.login(emails[1])
    assert "Virtual labs are disabled" not in client.get("/dashboard").get_data(as_text=True)
    monkeypatch.setattr(views, "sandbox_state", lambda: (True, "ready"))
    auth.logout()
    auth.login(emails[0])
    assert "Virtual labs are disabled" not in client.get("/dashboard").get_data(as_text=True)


def test_restricted_labs_refuse_submissions_until_unlocked(app, client, auth, world):
    from datetime import timedelta

    from lms.timeutil import utcnow

    with app.app_context():
        db.session.get(Lab, world.lab_id).available_from = utcnow() + timedelta(days=2)
        db.session.commit()
    auth.login(world.learner)
    resp = submit(client, world.lab_id, RIGHT)
    assert resp.status_code == 403 and "Opens on" in resp.get_json()["detail"]


def test_staff_review_learners_submissions(app, client, auth, world):
    with app.app_context():
        for kind, verdict, score in (("submit", "wrong_answer", 0.0), ("run", "accepted", 100.0)):
            db.session.add(
                LabSubmission(
                    lab_id=world.lab_id,
                    user_id=world.learner_id,
                    files={"main.py": WRONG},
                    kind=kind,
                    status="done",
                    verdict=verdict,
                    score=score,
                )
            )
        db.session.commit()
    auth.login(world.learner)
    assert client.get(f"/labs/{world.lab_id}/review").status_code == 403
    auth.logout()
    auth.login(world.trainer)
    page = client.get(f"/labs/{world.lab_id}/review").get_data(as_text=True)
    assert world.learner in page and "Wrong answer" in page and "Showing 1–1 of 1" in page
    page = client.get(f"/labs/{world.lab_id}/review?kind=all&q=nobody").get_data(as_text=True)
    assert "No submissions yet for “nobody”" in page
    csv_text = client.get(f"/labs/{world.lab_id}/review.csv?kind=all").get_data(as_text=True)
    lines = csv_text.strip().splitlines()
    assert lines[0] == "id,learner,email,kind,sent_utc,status,verdict,score" and len(lines) == 3
    assert world.learner in lines[1] and lines[1].endswith(",done,accepted,100")


@pytest.mark.sandbox
def test_multi_file_labs_are_edited_on_the_settings_page(app, client, auth, world):
    auth.login(world.trainer)
    form = {
        "instructions": "Use the helper module.",
        "language": "python",
        "cpu_s": "2",
        "wall_s": "5",
        "memory_mb": "256",
        "procs": "16",
        "output_kb": "64",
        "starter_files-0-name": "main.py",
        "starter_files-0-content": "from helper import add\n",
        "reference_files-0-name": "main.py",
        "reference_files-0-content": "from helper import add\nprint(add(*map(int, input().split())))\n",
        "add_file": "1",
    }
    resp = client.post(f"/labs/{world.lab_id}/edit?add_to=reference_files", data=form)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'name="reference_files-1-name"' in page
    assert "Use the helper module." in page  # what was typed is kept
    del form["add_file"]
    form["reference_files-1-name"] = "helper.py"
    form["reference_files-1-content"] = "def add(a, b):\n    return a + b\n"
    form["starter_files-1-name"] = "helper.py"
    form["starter_files-1-content"] = "def add(a, b):\n    return 0\n"
    resp = client.post(f"/labs/{world.lab_id}/edit", data=form)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with app.app_context():
        lab = db.session.get(Lab, world.lab_id)
        assert list(lab.reference_files) == ["main.py", "helper.py"]
        assert list(lab.starter_files) == ["main.py", "helper.py"]
    form["reference_files-1-name"] = "../helper.py"
    resp = client.post(f"/labs/{world.lab_id}/edit", data=form)
    assert resp.status_code == 400 and "not a valid file name" in resp.get_data(as_text=True)


@pytest.mark.sandbox
def test_expected_output_can_be_filled_in_from_the_reference(app, client, auth, world):
    auth.login(world.trainer)
    form = {
        "name": "Sum of big numbers",
        "kind": "io",
        "stdin": "40 2\n",
        "expected": "",
        "compare": "trailing_ws",
        "weight": "1",
        "fill_expected": "1",
    }
    resp = client.post(f"/labs/{world.lab_id}/tests/new", data=form)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and '<textarea aria-describedby="expected-hint"' in page
    assert 'name="expected">\r\n42\n</textarea>' in page  # WTForms adds the leading newline
    assert "filled in from the reference solution" in page
    with app.app_context():
        assert len(db.session.get(Lab, world.lab_id).tests) == 2  # nothing saved yet
