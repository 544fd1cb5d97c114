"""Regression tests for bugs the QA crawler, leak probes and form fuzzing found."""

from __future__ import annotations

from sqlalchemy import select

from lms.extensions import db
from tests.crawler import login, parse


def _a_certificate_code(app) -> str:
    from lms.credentials.models import Certificate

    with app.app_context():
        return db.session.scalars(select(Certificate.code).limit(1)).one()


def test_certificate_pages_have_one_h1(client, demo):
    """The certificate sheet is a section of the page, not a second page title."""
    code = _a_certificate_code(demo)
    assert parse(client.get(f"/verify/{code}").get_data(as_text=True)).h1 == 1
    login(client, "admin@cluster.demo")
    response = client.get(f"/certificates/{code}")
    assert response.status_code == 200
    assert parse(response.get_data(as_text=True)).h1 == 1


# --- ids out of the database's range, and digits int() refuses ----------------------------------
def test_parse_id_accepts_only_plain_ids_in_range():
    from lms.urls import parse_id

    assert parse_id("42") == 42
    assert parse_id("2147483647") == 2147483647
    for bad in ("", None, "-1", " 1", "1.5", "\u00b2", "\u0663", "2147483648", "9" * 40, "abc"):
        assert parse_id(bad) is None, bad


def test_huge_ids_in_urls_are_not_found(client, demo):
    """<int:...> beyond SQL INTEGER was a 500 on PostgreSQL (integer out of range)."""
    login(client, "admin@cluster.demo")
    huge = "99999999999999999999"
    for url in (
        f"/hr/acme/programs/{huge}",
        f"/hr/acme/employees/{huge}",
        f"/courses/python-for-production-data/activities/{huge}",
        f"/admin/org/acme/members/{huge}",
        f"/xapi/users/{huge}.json",
    ):
        assert client.get(url).status_code == 404, url


def test_bad_numeric_filters_are_ignored(client, demo):
    """Filters parsed with str.isdigit() crashed on '²' (int() refuses it) and on huge numbers."""
    login(client, "admin@cluster.demo")
    for bad in ("\u00b2", "99999999999999999999"):
        for url in (
            f"/courses-report/python-for-production-data?org={bad}",
            f"/hr/acme/employees?department={bad}&program={bad}",
            f"/admin/org/acme/members?department={bad}",
        ):
            assert client.get(url).status_code == 200, url
        response = client.get(f"/hr/acme/employees.csv?department={bad}")
        assert response.status_code == 200
        assert response.get_data(as_text=True).count("\n") >= 1  # the streamed export completes


def test_lesson_diff_with_huge_revision_numbers_redirects(client, demo):
    from courses.lesson.models import Lesson

    with demo.app_context():
        lesson_id = db.session.scalars(select(Lesson.id).limit(1)).one()
    login(client, "admin@cluster.demo")
    response = client.get(f"/lesson/{lesson_id}/diff?from=99999999999999999999&to=1")
    assert response.status_code in (200, 302)  # the nearest revisions, or back to the list


# --- NUL characters: PostgreSQL text cannot hold them ---------------------------------------------
def test_nul_characters_are_refused_with_400(client, demo):
    from lms.models import User

    login(client, "hr@acme.demo")
    assert client.get("/courses/?q=a%00b").status_code == 400
    assert client.get("/hr/acme/employees?q=a%00b").status_code == 400
    response = client.post("/auth/account", data={"name": "Henrik\x00Olsen"})
    assert response.status_code == 400
    with demo.app_context():
        name = db.session.scalars(select(User.name).where(User.email == "hr@acme.demo")).one()
    assert name == "Henrik Olsen"


def test_nul_characters_in_json_get_a_problem(client, demo):
    response = client.post(
        "/verify/credential.json",
        json={"type": ["VerifiableCredential"], "name": "a\x00b"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"


# --- the error page after a failed statement ------------------------------------------------------
def test_error_page_renders_after_a_failed_statement(app, client, demo):
    """On PostgreSQL a failed statement aborts the transaction: the 500 page (which loads the
    signed-in user's navigation) failed too unless the handler rolls back first."""
    from sqlalchemy import text

    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/qa-broken")
    def broken():
        db.session.execute(text("SELECT * FROM no_such_table"))
        return "unreachable"

    login(client, "hr@acme.demo")
    response = client.get("/qa-broken")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)


def test_moving_an_activity_to_another_module_confirms_it(client, demo):
    """The move form redirected to the structure page without saying anything happened."""
    from lms.domain.models import Activity, Course, Module

    with demo.app_context():
        course = db.session.scalars(
            select(Course).where(Course.slug == "python-for-production-data")
        ).one()
        modules = db.session.scalars(
            select(Module).where(Module.course_id == course.id).order_by(Module.position)
        ).all()
        activity = db.session.scalars(
            select(Activity).where(Activity.module_id == modules[0].id).limit(1)
        ).one()
        activity_id, target_id, target_title = activity.id, modules[-1].id, modules[-1].title
    assert len(modules) > 1
    login(client, "trainer@uni.demo")
    response = client.post(
        f"/courses/python-for-production-data/activities/{activity_id}/move",
        data={"module_id": str(target_id)},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert f"is now in the module “{target_title}”" in response.get_data(as_text=True)


def test_lab_review_csv_defuses_spreadsheet_formulas(client, demo):
    """The lab submissions CSV wrote learners' names raw: ``=HYPERLINK(...)`` became a formula."""
    from lms.domain.models import Course
    from lms.models import User
    from virtual_labs.models import Lab, LabSubmission

    with demo.app_context():
        course_id = db.session.scalars(
            select(Course.id).where(Course.slug == "python-for-production-data")
        ).one()
        lab_id = db.session.scalars(
            select(Lab.id).where(Lab.course_id == course_id).order_by(Lab.id).limit(1)
        ).one()
        learner = db.session.scalars(select(User).where(User.email == "student@uni.demo")).one()
        learner.name = '=HYPERLINK("http://evil.example","Sara")'
        db.session.add(
            LabSubmission(lab_id=lab_id, user_id=learner.id, files={}, kind="submit", status="done")
        )
        db.session.commit()
    login(client, "trainer@uni.demo")
    response = client.get(f"/labs/{lab_id}/review.csv?kind=all")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "HYPERLINK" in text
    assert "\n=HYPERLINK" not in text and ',"=HYPERLINK' not in text and ",=HYPERLINK" not in text
    assert "'=HYPERLINK" in text


def test_hr_xlsx_export_keeps_formula_like_names_as_text(client, demo):
    """openpyxl writes text starting with '=' as a formula: an employee's name became live."""
    import io
    import zipfile

    from openpyxl import load_workbook

    from lms.models import User

    with demo.app_context():
        user = db.session.scalars(select(User).where(User.email == "employee@acme.demo")).one()
        user.name = '=HYPERLINK("http://evil.example","Marco")'
        db.session.commit()
    login(client, "hr@acme.demo")
    response = client.get("/hr/acme/employees.xlsx")
    assert response.status_code == 200
    sheet_xml = zipfile.ZipFile(io.BytesIO(response.data)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml
    values = [
        cell
        for row in load_workbook(io.BytesIO(response.data), read_only=True).active.values
        for cell in row
    ]
    assert '=HYPERLINK("http://evil.example","Marco")' in values


def test_course_report_csv_defuses_formulas_in_activity_titles(client, demo):
    """The header row (activity titles, written by authors) skipped the formula defusing."""
    from lms.domain.models import Activity, Course

    with demo.app_context():
        course_id = db.session.scalars(
            select(Course.id).where(Course.slug == "python-for-production-data")
        ).one()
        activity = db.session.scalars(
            select(Activity).where(Activity.course_id == course_id).limit(1)
        ).one()
        activity.title = "=1+2"
        db.session.commit()
    login(client, "trainer@uni.demo")
    response = client.get("/courses-report/python-for-production-data.csv")
    assert response.status_code == 200
    header = response.get_data(as_text=True).splitlines()[0]
    assert "'=1+2: state" in header and ",=1+2" not in header


def test_site_settings_refuse_unknown_organization_values(client, demo):
    """Non-numeric organization values were silently dropped and the settings 'saved'."""
    from lms.settings import self_registration_enabled, self_registration_org_ids

    with demo.app_context():
        before = (self_registration_enabled(), self_registration_org_ids())
    login(client, "admin@cluster.demo")
    response = client.post(
        "/admin/site/settings",
        data={"self_registration": "y", "organizations": ["__bogus__", "\u00b2"]},
    )
    assert response.status_code == 400
    assert "Choose only listed organizations." in response.get_data(as_text=True)
    with demo.app_context():
        assert (self_registration_enabled(), self_registration_org_ids()) == before


def test_member_form_refuses_an_unknown_department_value(client, demo):
    """A department value that is no id cleared the member's department and said 'saved'."""
    from lms.models import Membership, User

    with demo.app_context():
        marco = db.session.scalars(select(User).where(User.email == "employee@acme.demo")).one()
        marco_id = marco.id
        before = db.session.scalars(
            select(Membership.department_id).where(Membership.user_id == marco_id)
        ).all()
    assert any(before)
    login(client, "orgadmin@acme.demo")
    response = client.post(
        f"/admin/org/acme/members/{marco_id}",
        data={"roles": ["learner"], "department": "__bogus__"},
    )
    assert response.status_code == 400
    assert "Choose one of this organization" in response.get_data(as_text=True)
    with demo.app_context():
        after = db.session.scalars(
            select(Membership.department_id).where(Membership.user_id == marco_id)
        ).all()
    assert after == before
