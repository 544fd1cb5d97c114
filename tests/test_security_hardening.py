"""Issue 8, security: crafted query strings, enumeration through ids, activity access, caching."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from courses.enrolment import withdraw
from lms.domain.models import Activity, Course, Enrolment
from lms.extensions import db
from lms.models import Organization, User
from lms.timeutil import utcnow
from tests.crawler import login

PYTHON = "python-for-production-data"


def _user_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def _lab_id(app, slug: str = PYTHON) -> int:
    with app.app_context():
        return db.session.scalar(
            select(Activity.id)
            .join(Course, Course.id == Activity.course_id)
            .where(Course.slug == slug, Activity.type == "lab")
            .order_by(Activity.id)
        )


# --- item 5: crafted query strings ----------------------------------------------------------------
HOSTILE_QUERY = "endpoint=x&org=x&slug=x&_method=x&_external=1&_scheme=https&_anchor=evil&page=1"


def test_crafted_query_strings_neither_crash_nor_rewrite_links(client, demo):
    """Pagination and sort links passed the query string to url_for as keyword arguments."""
    login(client, "admin@cluster.demo")
    for path in (
        "/admin/site/users",
        "/admin/org/acme/members",
        "/hr/acme/employees",
        f"/courses/{PYTHON}/enrolments",
        f"/courses-report/{PYTHON}",
    ):
        response = client.get(f"{path}?{HOSTILE_QUERY}&sort=name&dir=desc")
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert "https://localhost" not in html and "#evil" not in html, path
    html = client.get(f"/admin/org/acme/members?{HOSTILE_QUERY}").get_data(as_text=True)
    # The filters are kept, as values of the query string, on the same page.
    assert 'href="/admin/org/acme/members?endpoint=x&amp;org=x&amp;slug=x' in html


def test_login_with_a_newline_in_next_logs_in_without_a_server_error(client, demo):
    response = client.post(
        "/auth/login?next=/%0d%0aX-Injected:%201",
        data={"email": "student@uni.demo", "password": "demo-pass-2026"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard")
    assert "X-Injected" not in response.headers
    for bad in ("/\\evil.example", "//evil.example", "https://evil.example/"):
        client.post("/auth/logout")
        response = client.post(
            "/auth/login",
            query_string={"next": bad},
            data={"email": "student@uni.demo", "password": "demo-pass-2026"},
        )
        assert response.headers["Location"].endswith("/dashboard"), bad


# --- item 6: the override page names only the course's learners ------------------------------------
def test_override_page_does_not_reveal_users_outside_the_course(client, demo):
    outsider = _user_id(demo, "hr@globex.demo")
    learner = _user_id(demo, "employee@acme.demo")
    with demo.app_context():
        activity_id = db.session.scalar(
            select(Activity.id)
            .join(Course, Course.id == Activity.course_id)
            .where(Course.slug == PYTHON)
            .order_by(Activity.id)
        )
    login(client, "trainer@acme.demo")
    url = f"/courses-report/{PYTHON}/override/{{}}/{activity_id}"
    for method in (client.get, client.post):
        response = method(url.format(outsider), data={"state": "completed", "reason": "x"})
        assert response.status_code == 404
        assert "Grace Kim" not in response.get_data(as_text=True)
    assert "Marco Rossi" in client.get(url.format(learner)).get_data(as_text=True)


# --- item 7: one access rule for a lab, whatever its address ----------------------------------------
def test_lab_page_is_closed_to_learners_not_enrolled(client, demo):
    lab_id = _lab_id(demo)
    with demo.app_context():  # Acme is a partner; she leaves the course
        enrolment = db.session.scalar(
            select(Enrolment).where(
                Enrolment.user_id == _user_id(demo, "employee2@acme.demo"),
                Enrolment.course_id == db.session.get(Activity, lab_id).course_id,
            )
        )
        withdraw(enrolment)
        db.session.commit()
    login(client, "employee2@acme.demo")
    response = client.get(f"/labs/{lab_id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/courses/{PYTHON}")
    assert client.post(f"/labs/{lab_id}/submissions", data={"kind": "run"}).status_code == 302


def test_lab_page_applies_restrict_access_locks(client, demo):
    lab_id = _lab_id(demo)
    with demo.app_context():
        lab = db.session.get(Activity, lab_id)
        lab.available_from = utcnow() + timedelta(days=3)
        db.session.commit()
    login(client, "student@uni.demo")
    response = client.get(f"/labs/{lab_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Not open yet" in html and "Opens on" in html
    assert 'name="file:' not in html  # no editor, no starter code
    client.post("/auth/logout")
    login(client, "trainer@uni.demo")  # the course team still sees it
    assert 'name="file:' in client.get(f"/labs/{lab_id}").get_data(as_text=True)


# --- item 10: personal data is never cached -----------------------------------------------------------
def test_personal_pages_and_api_are_not_stored_by_caches(app, client, demo):
    from lms.api.tokens import create_token

    with demo.app_context():
        acme = db.session.scalar(select(Organization).where(Organization.slug == "acme"))
        hr = db.session.scalar(select(User).where(User.email == "hr@acme.demo"))
        _, secret = create_token(acme, "payroll", hr)
        db.session.commit()
    employee = _user_id(demo, "employee@acme.demo")
    api = client.get("/api/v1/employees", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200
    assert api.headers["Cache-Control"] == "no-store"
    login(client, "hr@acme.demo")
    for path in (
        "/hr/acme/employees.csv",
        "/hr/acme/employees.xlsx",
        f"/hr/acme/employees/{employee}",
        "/dashboard",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
    # Static files keep their own (revalidated) caching.
    assert "no-store" not in client.get("/static/css/app.css").headers.get("Cache-Control", "")


# --- item 2: logout ends the session on the server --------------------------------------------------
def _login_remembered(client):
    response = client.post(
        "/auth/login",
        data={"email": "student@uni.demo", "password": "demo-pass-2026", "remember": "y"},
    )
    assert response.status_code == 302
    return client.get_cookie("session").value, client.get_cookie("remember_token").value


def test_copied_cookies_stop_working_after_logout(app, demo):
    client = app.test_client()
    session_cookie, remember_cookie = _login_remembered(client)
    assert client.get("/dashboard").status_code == 200
    client.post("/auth/logout")
    for name, value in (("session", session_cookie), ("remember_token", remember_cookie)):
        replay = app.test_client()
        replay.set_cookie(name, value)
        response = replay.get("/dashboard")
        assert response.status_code == 302, name
        assert "/auth/login" in response.headers["Location"], name


def test_remember_me_lasts_thirty_days_and_ends_on_the_server_then(app, demo):
    from lms.models import LoginSession

    client = app.test_client()
    _, remember_cookie = _login_remembered(client)
    expires = client.get_cookie("remember_token").expires
    days = (expires.replace(tzinfo=None) - utcnow()).total_seconds() / 86400
    assert 29.9 < days <= 30.01
    with demo.app_context():
        row = db.session.scalars(select(LoginSession).order_by(LoginSession.id.desc())).first()
        assert row.remember and (row.expires_at - utcnow()).days in (29, 30)
        row.expires_at = utcnow() - timedelta(seconds=1)  # a month later
        db.session.commit()
    replay = app.test_client()
    replay.set_cookie("remember_token", remember_cookie)
    assert replay.get("/dashboard").status_code == 302


# --- item 9: a site administrator signs for a partner only as a recorded override ----------------------
def test_site_admin_signs_for_a_partner_only_as_an_override_with_a_reason(client, demo):
    from lms.domain.models import CourseSignoff

    slug = "lean-manufacturing-shop-floor"  # in review, waiting for Acme's sign-off
    with demo.app_context():
        acme_id = db.session.scalar(select(Organization.id).where(Organization.slug == "acme"))
    login(client, "admin@cluster.demo")
    review = client.get(f"/courses/{slug}/review").get_data(as_text=True)
    assert "override as site administrator" in review
    response = client.post(f"/courses/{slug}/signoff", data={"organization_id": acme_id})
    assert response.status_code == 400
    assert "signing for it is an override" in response.get_data(as_text=True)
    reason = "The Acme training lead approved by phone; she is on leave."
    response = client.post(
        f"/courses/{slug}/signoff", data={"organization_id": acme_id, "comment": reason}
    )
    assert response.status_code == 302
    with demo.app_context():
        signoff = db.session.scalar(
            select(CourseSignoff)
            .where(CourseSignoff.organization_id == acme_id)
            .order_by(CourseSignoff.id.desc())
        )
        assert signoff.is_override and signoff.comment == reason
    review = client.get(f"/courses/{slug}/review").get_data(as_text=True)
    assert "Override" in review and reason in review
    overview = client.get(f"/courses/{slug}").get_data(as_text=True)
    assert "Signed off by a site-administrator override" in overview


# --- item 8: people of non-partner organizations join only with their consent ---------------------------
def test_trainer_invites_learners_of_other_organizations_who_must_accept(app, client, demo):
    from lms.domain.models import CourseInvitation
    from lms.domain.services import active_enrolment

    cluster_course = (
        "warehouse-automation-basics"  # open to the cluster; partners Northfield, Globex
    )
    outsider = "anna.becker@acme.demo"  # an Acme learner: not a partner of this course
    login(client, "trainer@uni.demo")
    answers = []
    for email in (outsider, "nobody-here@example.org"):
        response = client.post(
            f"/courses/{cluster_course}/enrolments", data={"email": email}, follow_redirects=True
        )
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        answers.append("they are invited" in html)
    assert answers == [True, True]  # the same answer whether the address has an account
    with demo.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == cluster_course))
        anna = db.session.scalar(select(User).where(User.email == outsider))
        assert active_enrolment(anna.id, course.id) is None
        assert db.session.scalar(
            select(CourseInvitation).where(CourseInvitation.user_id == anna.id)
        )
        course_id, anna_id = course.id, anna.id
    report = client.get(f"/courses-report/{cluster_course}").get_data(as_text=True)
    assert anna_name(demo, anna_id) not in report

    learner = app.test_client()
    login(learner, outsider)
    overview = learner.get(f"/courses/{cluster_course}").get_data(as_text=True)
    assert "You are invited" in overview
    response = learner.post(f"/courses/{cluster_course}/invitation", data={"answer": "accept"})
    assert response.status_code == 302
    with demo.app_context():
        enrolment = active_enrolment(anna_id, course_id)
        assert enrolment is not None and enrolment.method == "trainer"
        assert db.session.scalar(select(CourseInvitation)) is None


def anna_name(app, user_id: int) -> str:
    with app.app_context():
        return db.session.get(User, user_id).name


def test_partner_only_course_refuses_outsiders_without_revealing_accounts(client, demo):
    login(client, "trainer@acme.demo")
    messages = []
    for email in ("employee@globex.demo", "nobody-here@example.org"):
        response = client.post(f"/courses/{PYTHON}/enrolments", data={"email": email})
        assert response.status_code == 400
        html = response.get_data(as_text=True).replace(email, "X")
        assert "No learner of the partner organizations uses X" in html
        messages.append("Omar Haddad" in html)
    assert messages == [False, False]
