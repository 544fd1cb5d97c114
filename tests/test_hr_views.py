"""HR pages through the client: dashboard, employee table, exports, transcripts, programs.

Includes the privacy matrix: HR of one organization never sees another's employees.
"""

import csv
import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, func, select

from lms.extensions import db
from lms.progress.models import Program, ProgramAssignment
from lms.progress.programs import ProgramData, assign_program, create_program
from lms.progress.services import record_activity_event
from lms.timeutil import utcnow
from tests.progress_factories import activities_of, department, make_course, make_org, make_user


@pytest.fixture
def cluster(app):
    """Two enterprises with HR, employees and one program each; ids only (sessions end)."""
    with app.app_context():
        acme, globex = make_org("acme"), make_org("globex")
        hr_acme = make_user("hr@acme.test", "Hanna HR", acme, "hr")
        hr_globex = make_user("hr@globex.test", "Gus HR", globex, "hr")
        admin = make_user("admin@test.test", "Ada Admin", admin=True)
        c1 = make_course("quality-stats", [("viewed", None, 1, True), ("passed", 60, 1, True)])
        c2 = make_course("python-data")
        emps = [make_user(f"e{i}@acme.test", f"Acme Emp {i:02d}", acme, "learner",
                          "Quality" if i % 2 else "Production") for i in range(12)]  # fmt: skip
        g_emp = make_user("secret@globex.test", "Globex Secret", globex, "learner", "Quality")
        data = ProgramData("Quality Retraining", "retraining", "", [c1.id, c2.id],
                           due_mode="relative", due_days=30)  # fmt: skip
        program = create_program(acme, data, hr_acme)
        g_program = create_program(globex, ProgramData("Globex Onboarding", "onboarding", "",
                                   [c2.id], due_mode="relative", due_days=30), hr_globex)  # fmt: skip
        now = utcnow()
        assign_program(program, [e.id for e in emps[:6]], hr_acme, now - timedelta(days=40))
        assign_program(program, [e.id for e in emps[6:]], hr_acme, now)
        assign_program(g_program, [g_emp.id], hr_globex)
        a1, a2 = activities_of(c1)
        (b1,) = activities_of(c2)
        for e in emps[:3]:
            record_activity_event(e, a1, "viewed")
            record_activity_event(e, a2, "graded", grade=90)
            record_activity_event(e, b1, "viewed")
        record_activity_event(emps[6], a1, "viewed")
        db.session.commit()
        return {
            "acme": acme.slug, "globex": globex.slug, "program": program.id,
            "g_program": g_program.id, "emp": emps[0].id, "g_emp": g_emp.id,
            "hr_acme": hr_acme.email, "hr_globex": hr_globex.email, "admin": admin.email,
            "emp_email": emps[0].email, "quality": department(acme, "Quality").id,
        }  # fmt: skip


def test_dashboard_figures_and_chart(client, auth, cluster):
    auth.login(cluster["hr_acme"])
    page = client.get("/hr/acme/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Quality Retraining" in html
    assert "Globex Onboarding" not in html
    assert "<svg" in html and "<title" in html
    # 3 completed of 12 assigned, 3 more overdue (assigned 40 days ago, due after 30)
    assert "25.0%" in html
    assert "3 completed" in html and "3 overdue" in html
    assert client.get("/hr/").headers["Location"].endswith("/hr/acme/")


def test_employee_table_filters_sort_and_pagination(client, auth, cluster):
    auth.login(cluster["hr_acme"])
    html = client.get("/hr/acme/employees").get_data(as_text=True)
    assert "Acme Emp 00" in html and "Globex Secret" not in html
    assert "Showing 1–12 of 12" in html
    assert 'aria-sort="ascending"' in html
    overdue = client.get("/hr/acme/employees?status=overdue").get_data(as_text=True)
    assert "Showing 1–3 of 3" in overdue
    assert "Showing 1–3 of 3" in client.get("/hr/acme/employees?overdue=1").get_data(as_text=True)
    quality = client.get(f"/hr/acme/employees?department={cluster['quality']}").get_data(
        as_text=True
    )
    assert "Showing 1–6 of 6" in quality
    by_progress = client.get("/hr/acme/employees?sort=progress&dir=desc").get_data(as_text=True)
    assert 'aria-sort="descending"' in by_progress
    assert by_progress.index("Acme Emp 00") < by_progress.index("Acme Emp 11")
    # bad parameters are ignored, not errors
    assert client.get("/hr/acme/employees?sort=evil&status=nope&page=abc").status_code == 200


def test_employee_table_query_count_does_not_grow(app, client, auth, cluster):
    auth.login(cluster["hr_acme"])
    counts = []

    def count(*_):
        counts[-1] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        for url in ("/hr/acme/employees", "/hr/acme/"):
            counts.append(0)
            client.get(url)
        counts.append(0)  # the setup below is not counted against a page
        with app.app_context():
            acme_program = db.session.get(Program, cluster["program"])
            org = acme_program.organization
            more = [make_user(org=org, dept="Quality") for _ in range(15)]
            assign_program(acme_program, [u.id for u in more], None)
            db.session.commit()
        for url in ("/hr/acme/employees", "/hr/acme/"):
            counts.append(0)
            client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert counts[0] == counts[3] and counts[1] == counts[4]


def test_csv_and_xlsx_exports(client, auth, cluster):
    auth.login(cluster["hr_acme"])
    response = client.get("/hr/acme/employees.csv?status=completed")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:5] == ["Employee", "Email", "Department", "Program", "Status"]
    assert len(rows) == 4 and {r[4] for r in rows[1:]} == {"Completed"}
    # The due date is a day (the end of it), not a moment.
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r[8]) for r in rows[1:])
    xlsx = client.get("/hr/acme/employees.xlsx")
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.data))
    sheet = book.active
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width >= 20 and sheet.column_dimensions["K"].width < 10
    values = list(sheet.values)
    assert values[0][0] == "Employee" and len(values) == 13
    assert {v[4] for v in values[1:]} <= {"Not started", "Assigned", "In progress", "Completed",
                                          "Overdue"}  # fmt: skip
    assert sheet["I2"].number_format == "yyyy-mm-dd" and sheet["I2"].value.hour == 0
    assert all("globex" not in str(v[1]) for v in values)


def test_transcript(client, auth, cluster):
    auth.login(cluster["hr_acme"])
    html = client.get(f"/hr/acme/employees/{cluster['emp']}").get_data(as_text=True)
    assert "Quality Retraining" in html and "Quality Stats" in html
    assert "Completed" in html


PRIVATE_URLS = [
    "/hr/{globex}/",
    "/hr/{globex}/employees",
    "/hr/{globex}/employees?department={quality}",
    "/hr/{globex}/employees.csv",
    "/hr/{globex}/employees.xlsx",
    "/hr/{globex}/employees/{g_emp}",
    "/hr/{acme}/employees/{g_emp}",
    "/hr/{globex}/programs",
    "/hr/{globex}/programs/{g_program}",
    "/hr/{acme}/programs/{g_program}",
    "/hr/{acme}/programs/{g_program}/edit",
    "/hr/{globex}/programs/new",
]


def test_privacy_matrix_hr_of_acme(client, auth, cluster):
    """Every page, export and guessed URL of Globex answers 404 to Acme's HR."""
    auth.login(cluster["hr_acme"])
    for url in PRIVATE_URLS:
        response = client.get(url.format(**cluster))
        assert response.status_code == 404, url
        assert b"Globex Secret" not in response.data, url
    archive = client.post("/hr/{acme}/programs/{g_program}/archive".format(**cluster))
    assert archive.status_code == 404


@pytest.mark.parametrize("who", ["emp_email", "hr_globex"])
def test_privacy_matrix_others(client, auth, cluster, who):
    """One deny rule for every organization page: a member of Acme without HR rights is told
    no (403, they know Acme exists); HR of Globex is told nothing (404)."""
    auth.login(cluster[who])
    expected = 403 if who == "emp_email" else 404
    for url in ("/hr/acme/", "/hr/acme/employees.csv", f"/hr/acme/employees/{cluster['emp']}"):
        assert client.get(url).status_code == expected, url
    # an employee has no HR at all
    if who == "emp_email":
        assert client.get("/hr/").status_code == 403


def test_assign_to_other_org_program_refused(client, auth, cluster, app):
    auth.login(cluster["hr_acme"])
    response = client.post(f"/hr/acme/programs/{cluster['g_program']}", data={"target": "everyone"})
    assert response.status_code == 404


def test_site_admin_sees_any_org_with_switcher(client, auth, cluster):
    auth.login(cluster["admin"])
    choose = client.get("/hr/")
    assert choose.status_code == 200 and b"Choose an organization" in choose.data
    page = client.get("/hr/globex/").get_data(as_text=True)
    assert "Globex Onboarding" in page and 'id="org-switch"' in page
    assert client.get("/hr/?org=acme").headers["Location"].endswith("/hr/acme/")


def _program_form(**kw):
    data = {"name": "Lean Basics", "purpose": "upskilling", "description": "",
            "completion_mode": "all", "due_mode": "relative", "due_days": "30",
            "validity_months": ""}  # fmt: skip
    data.update(kw)
    return data


def test_create_program_and_bad_input(client, auth, cluster, app):
    auth.login(cluster["hr_acme"])
    with app.app_context():
        course_id = (
            db.session.scalar(select(Program).where(Program.id == cluster["program"]))
            .courses[0]
            .course_id
        )
        before = db.session.scalar(select(func.count(Program.id)))
    assert client.get("/hr/acme/programs/new").status_code == 200
    no_courses = client.post("/hr/acme/programs/new", data=_program_form())
    assert no_courses.status_code == 400
    assert b"Choose at least one course" in no_courses.data
    assert b'value="Lean Basics"' in no_courses.data  # what was typed is kept
    yesterday = (utcnow().date() - timedelta(days=1)).isoformat()
    past = client.post("/hr/acme/programs/new", data=_program_form(
        due_mode="fixed", due_date=yesterday, course_ids=[str(course_id)]))  # fmt: skip
    assert past.status_code == 400 and b"today or later" in past.data
    with app.app_context():
        assert db.session.scalar(select(func.count(Program.id))) == before
    ok = client.post("/hr/acme/programs/new", data=_program_form(course_ids=[str(course_id)]))
    assert ok.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(Program.id))) == before + 1


def test_assign_department_via_form_and_outsider_refused(client, auth, cluster, app):
    auth.login(cluster["hr_acme"])
    with app.app_context():
        acme = db.session.get(Program, cluster["program"]).organization
        program = create_program(acme, ProgramData("Safety", "compliance", "", [
            db.session.get(Program, cluster["program"]).courses[0].course_id],
            due_mode="relative", due_days=10), None)  # fmt: skip
        db.session.commit()
        pid = program.id
    outsider = client.post(
        f"/hr/acme/programs/{pid}",
        data={"target": "employees", "user_ids": [str(cluster["g_emp"])]},
    )
    assert outsider.status_code == 400
    assert b"only be assigned to employees" in outsider.data
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(ProgramAssignment.id)).where(ProgramAssignment.program_id == pid)
            )
            == 0
        )
    done = client.post(
        f"/hr/acme/programs/{pid}", data={"target": "department", "department": cluster["quality"]}
    )
    assert done.status_code == 302
    follow = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Assigned to 6 employees." in follow
    dashboard = client.get("/hr/acme/").get_data(as_text=True)
    assert "Safety" in dashboard


def test_employee_cannot_manage_programs(client, auth, cluster):
    auth.login(cluster["emp_email"])
    assert (
        client.get("/hr/acme/programs/new").status_code == 403
    )  # a member: told no, not "not found"
