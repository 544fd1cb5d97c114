"""The HR JSON API: tokens (UI, hashing, revocation), endpoints, errors and the privacy matrix."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.api.models import ApiToken
from lms.api.tokens import create_token, revoke_token
from lms.extensions import db
from lms.models import Membership
from lms.progress.models import Program, ProgramAssignment, ProgramCourse
from lms.timeutil import utcnow
from tests.trust_helpers import cluster, complete, graded_course, login, make_user


def _program(org, name, courses):
    program = Program(organization_id=org.id, name=name, purpose="upskilling")
    db.session.add(program)
    db.session.flush()
    for i, course in enumerate(courses):
        db.session.add(ProgramCourse(program_id=program.id, course_id=course.id, position=i))
    db.session.flush()
    return program


def _assign(program, user, status="assigned", due_days=30, **kw):
    a = ProgramAssignment(
        program_id=program.id,
        organization_id=program.organization_id,
        user_id=user.id,
        status=status,
        due_at=utcnow() + timedelta(days=due_days),
        **kw,
    )
    db.session.add(a)
    db.session.flush()
    return a


@pytest.fixture
def hr_world(app):
    """Acme and Globex, each with programs, assignments, completions and a token."""
    with app.app_context():
        p = cluster()
        acme, globex = p["acme"], p["globex"]
        extra = [make_user(f"worker{i}@acme.test", acme, name=f"Worker {i}") for i in range(3)]
        quality = _program(acme, "Digital Quality Retraining 2026", [p["course"]])
        industry = _program(acme, "Industry 4.0 Upskilling", [p["course"]])
        logistics = _program(globex, "Warehouse Automation", [p["course"]])
        complete(p["employee"], p["course"], grade=91)
        complete(p["globex_employee"], p["course"], grade=64)
        _assign(quality, p["employee"], status="completed", completed_at=utcnow(), progress=100.0)
        _assign(quality, p["employee2"], status="in_progress", progress=50.0)
        _assign(quality, extra[0], due_days=-3)  # overdue
        _assign(industry, extra[1])
        _assign(industry, extra[2], status="in_progress", due_days=-1)  # overdue
        _assign(logistics, p["globex_employee"], status="completed", completed_at=utcnow())
        acme_token, acme_secret = create_token(acme, "Workday sync", p["hr"])
        globex_token, globex_secret = create_token(globex, "SAP", p["globex_hr"])
        db.session.commit()
        return {
            "acme": acme.id,
            "globex": globex.id,
            "acme_secret": acme_secret,
            "globex_secret": globex_secret,
            "acme_token_id": acme_token.id,
            "quality": quality.id,
            "industry": industry.id,
            "logistics": logistics.id,
            "employee": p["employee"].id,
            "employee2": p["employee2"].id,
            "globex_employee": p["globex_employee"].id,
            "hr": p["hr"].id,
        }


def api(client, secret, path, **params):
    return client.get(
        f"/api/v1{path}", query_string=params, headers={"Authorization": f"Bearer {secret}"}
    )


def _problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"]
    return body


# --- tokens -----------------------------------------------------------------------------------
def test_token_created_in_ui_is_shown_once_and_stored_hashed(app, client, hr_world):
    login(client, "hr@acme.test")
    index = client.get("/api-tokens/")
    assert index.status_code == 302 and index.headers["Location"].endswith(f"/{hr_world['acme']}")
    empty = client.post(f"/api-tokens/{hr_world['acme']}", data={"name": ""})
    assert empty.status_code == 400 and "Enter a name" in empty.get_data(as_text=True)
    created = client.post(f"/api-tokens/{hr_world['acme']}", data={"name": "BambooHR"})
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    html = created.get_data(as_text=True)
    secret = re.search(r"(ecl_[A-Za-z0-9_\-]{40,})", html).group(1)
    with app.app_context():
        token = db.session.scalar(select(ApiToken).where(ApiToken.name == "BambooHR"))
        assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert token.scope == "read" and token.organization_id == hr_world["acme"]
        assert secret not in (token.prefix, token.name, token.token_hash)
        assert token.last_used_at is None
    again = client.get(f"/api-tokens/{hr_world['acme']}").get_data(as_text=True)
    assert secret not in again and "BambooHR" in again and token.prefix in again
    assert api(client, secret, "/organization").get_json()["id"] == hr_world["acme"]
    with app.app_context():
        assert db.session.get(ApiToken, token.id).last_used_at is not None


def test_revoked_token_stops_working(app, client, hr_world):
    secret = hr_world["acme_secret"]
    assert api(client, secret, "/programs").status_code == 200
    login(client, "hr@acme.test")
    response = client.post(f"/api-tokens/{hr_world['acme']}/{hr_world['acme_token_id']}/revoke")
    assert response.status_code == 302
    body = _problem(api(client, secret, "/programs"), 401)
    assert "revoked" in body["detail"]


def test_who_may_manage_tokens(client, hr_world):
    cases = [("emp@acme.test", 403, 404), ("hr@globex.test", 302, 404),
             ("admin@acme.test", 302, 200), ("root@cluster.test", 200, 200)]  # fmt: skip
    for email, index, page in cases:
        login(client, email)
        assert client.get("/api-tokens/").status_code == index, email
        assert client.get(f"/api-tokens/{hr_world['acme']}").status_code == page, email
    url = f"/api-tokens/{hr_world['acme']}/{hr_world['acme_token_id']}/revoke"
    login(client, "hr@globex.test")
    assert client.post(url).status_code == 404
    login(client, "emp@acme.test")
    assert client.post(url).status_code == 404
    login(client, "admin@acme.test")
    assert client.post(url).status_code == 302


def test_token_of_someone_who_lost_hr_rights_is_refused(app, client, hr_world):
    with app.app_context():
        db.session.execute(
            Membership.__table__.delete().where(Membership.user_id == hr_world["hr"])
        )
        db.session.commit()
    _problem(api(client, hr_world["acme_secret"], "/programs"), 403)


def test_service_refuses_blank_names_and_double_revocation(app, hr_world):
    from lms.errors import Conflict, DomainError
    from lms.models import Organization, User

    with app.app_context():
        org = db.session.get(Organization, hr_world["acme"])
        user = db.session.get(User, hr_world["hr"])
        with pytest.raises(DomainError):
            create_token(org, "   ", user)
        token = db.session.get(ApiToken, hr_world["acme_token_id"])
        revoke_token(token, user)
        with pytest.raises(Conflict):
            revoke_token(token, user)


# --- authentication errors --------------------------------------------------------------------
def test_missing_or_invalid_token_is_401(client, hr_world):
    headers = [None, "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer ecl_not-a-real-token",
               "Bearer " + "x" * 500, "Token " + hr_world["acme_secret"]]  # fmt: skip
    for header in headers:
        response = client.get(
            "/api/v1/programs", headers={"Authorization": header} if header is not None else {}
        )
        _problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), header


def test_session_cookie_is_not_enough(client, hr_world):
    login(client, "hr@acme.test")
    _problem(client.get("/api/v1/programs"), 401)


def test_read_only_and_unknown_routes(client, hr_world):
    headers = {"Authorization": f"Bearer {hr_world['acme_secret']}"}
    _problem(client.post("/api/v1/programs", json={"name": "x"}, headers=headers), 405)
    _problem(client.delete("/api/v1/programs", headers=headers), 405)
    _problem(client.get("/api/v1/nothing-here", headers=headers), 404)


# --- endpoints --------------------------------------------------------------------------------
def test_programs(client, hr_world):
    body = api(client, hr_world["acme_secret"], "/programs").get_json()
    names = [p["name"] for p in body["data"]]
    assert names == ["Digital Quality Retraining 2026", "Industry 4.0 Upskilling"]
    assert body["data"][0]["courses"][0]["title"] == "Statistical Process Control"
    one = api(client, hr_world["acme_secret"], f"/programs/{hr_world['quality']}")
    assert one.get_json()["id"] == hr_world["quality"]


def test_assignments_with_status_filters_and_cursor(client, hr_world):
    secret = hr_world["acme_secret"]
    everything = api(client, secret, "/assignments").get_json()
    assert everything["next_cursor"] is None
    statuses = sorted(a["status"] for a in everything["data"])
    assert statuses == ["completed", "in_progress", "not_started", "overdue", "overdue"]
    overdue = api(client, secret, "/assignments", status="overdue").get_json()["data"]
    assert len(overdue) == 2 and all(a["due_at"] for a in overdue)
    quality = api(client, secret, "/assignments", program_id=hr_world["quality"]).get_json()
    assert {a["program_id"] for a in quality["data"]} == {hr_world["quality"]}
    assert len(quality["data"]) == 3
    done = api(client, secret, "/assignments", status="completed").get_json()["data"]
    assert done[0]["employee"]["email"] == "emp@acme.test" and done[0]["completed_at"]
    # walk the cursor two at a time
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api(client, secret, "/assignments", **params).get_json()
        seen += [a["id"] for a in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [a["id"] for a in everything["data"]]


def test_bad_parameters_are_400(client, hr_world):
    cases = [{"status": "late"}, {"limit": 0}, {"limit": 501}, {"limit": "ten"},
             {"cursor": "%%%"}, {"cursor": "eyJ4IjoxfQ"}, {"program_id": "abc"}]  # fmt: skip
    for params in cases:
        body = _problem(api(client, hr_world["acme_secret"], "/assignments", **params), 400)
        assert body["parameter"] in params, params


def test_employees_and_transcript(client, hr_world):
    secret = hr_world["acme_secret"]
    employees = api(client, secret, "/employees").get_json()["data"]
    emails = {e["email"] for e in employees}
    assert "emp@acme.test" in emails and "emp@globex.test" not in emails
    assert "hr@acme.test" not in emails  # learners only
    transcript = api(client, secret, f"/employees/{hr_world['employee']}/transcript").get_json()
    assert transcript["employee"]["name"] == "Marco Rossi"
    (course,) = transcript["courses"]
    assert course["state"] == "completed" and course["grade"] == 91.0
    (cert,) = transcript["certificates"]
    assert cert["status"] == "valid" and cert["verify_url"].endswith(cert["code"])
    assert [p["program_name"] for p in transcript["programs"]] == [
        "Digital Quality Retraining 2026"
    ]


def test_completions_feed_is_incremental(app, client, hr_world):
    secret = hr_world["acme_secret"]
    first = api(client, secret, "/completions").get_json()
    assert [c["employee_name"] for c in first["data"]] == ["Marco Rossi"]
    assert first["data"][0]["kind"] == "course" and first["data"][0]["grade"] == 91.0
    assert re.fullmatch(r"[0-9a-f]{64}", first["data"][0]["entry_hash"])
    cursor = first["next_cursor"]
    nothing = api(client, secret, "/completions", cursor=cursor).get_json()
    assert nothing["data"] == [] and nothing["next_cursor"] == cursor
    with app.app_context():
        from lms.models import User
        from lms.progress.models import CourseCompletion  # noqa: F401

        course = graded_course(
            [db.session.get(User, hr_world["employee2"]).memberships[0].organization]
        )
        complete(db.session.get(User, hr_world["employee2"]), course, grade=77)
        db.session.commit()
    new = api(client, secret, "/completions", cursor=cursor).get_json()
    assert [c["employee_name"] for c in new["data"]] == ["Lena Vogel"]
    assert new["data"][0]["seq"] > first["data"][0]["seq"]
    later = (utcnow() + timedelta(days=1)).isoformat() + "Z"
    assert api(client, secret, "/completions", since=later).get_json()["data"] == []
    earlier = (utcnow() - timedelta(days=1)).isoformat() + "+00:00"
    assert len(api(client, secret, "/completions", since=earlier).get_json()["data"]) == 2
    _problem(api(client, secret, "/completions", since="yesterday"), 400)


# --- privacy matrix ---------------------------------------------------------------------------
def test_a_token_never_reads_another_organizations_data(client, hr_world):
    for mine, theirs, their_program, their_employee in [
        ("acme_secret", "globex", "logistics", "globex_employee"),
        ("globex_secret", "acme", "quality", "employee"),
    ]:
        secret = hr_world[mine]
        _problem(api(client, secret, f"/programs/{hr_world[their_program]}"), 404)
        _problem(api(client, secret, "/assignments", program_id=hr_world[their_program]), 404)
        _problem(api(client, secret, f"/employees/{hr_world[their_employee]}/transcript"), 404)
        assert (
            api(client, secret, "/assignments", user_id=hr_world[their_employee]).get_json()["data"]
            == []
        )
        programs = {p["id"] for p in api(client, secret, "/programs").get_json()["data"]}
        assert hr_world[their_program] not in programs
        employees = {e["id"] for e in api(client, secret, "/employees").get_json()["data"]}
        assert hr_world[their_employee] not in employees
        feed = {c["employee_id"] for c in api(client, secret, "/completions").get_json()["data"]}
        assert hr_world[their_employee] not in feed
        assignments = api(client, secret, "/assignments").get_json()["data"]
        assert all(a["employee"]["id"] != hr_world[their_employee] for a in assignments)
        assert api(client, secret, "/organization").get_json()["slug"] != f"{theirs}-t"


def test_query_count_does_not_grow_with_rows(app, client, hr_world):
    """Each endpoint runs a fixed number of queries, however many rows it returns."""
    from sqlalchemy import event

    from lms.models import Organization, User

    def count(path, **params):
        statements = []

        def listener(*args):
            statements.append(1)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert api(client, hr_world["acme_secret"], path, **params).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    paths = ["/programs", "/assignments", "/employees", "/completions",
             f"/employees/{hr_world['employee']}/transcript"]  # fmt: skip
    count("/organization")  # the token's first use records last_used_at (one write per minute)
    before = {p: count(p) for p in paths}
    with app.app_context():
        acme = db.session.get(Organization, hr_world["acme"])
        program = db.session.get(Program, hr_world["quality"])
        employee = db.session.get(User, hr_world["employee"])
        for i in range(12):
            worker = make_user(f"extra{i}@acme.test", acme)
            _assign(program, worker, status="in_progress")
            course = graded_course([acme], title=f"Extra course {i}")
            complete(employee if i < 4 else worker, course, grade=80)
        db.session.commit()
    after = {p: count(p) for p in paths}
    assert after == before, (before, after)


def test_transcript_page_and_api_show_the_same_record(app, client, hr_world):
    """HR's page and the API are one query function: same courses, programs and certificates,
    and neither shows a program certificate that another organization issued."""
    from lms.credentials.certificates import issue_program_certificate
    from lms.credentials.models import Certificate
    from lms.models import User

    with app.app_context():
        employee = db.session.get(User, hr_world["employee"])
        theirs = db.session.get(Program, hr_world["logistics"])
        assignment = _assign(theirs, employee, status="completed", completed_at=utcnow())
        foreign = issue_program_certificate(employee, theirs, assignment)
        db.session.commit()
        foreign_code = foreign.code
        codes = set(
            db.session.scalars(select(Certificate.code).where(Certificate.user_id == employee.id))
        )
        hr_email = db.session.get(User, hr_world["hr"]).email
    assert foreign_code in codes and len(codes) >= 2

    document = api(client, hr_world["acme_secret"], f"/employees/{hr_world['employee']}/transcript")
    data = document.get_json()
    login(client, hr_email)
    page = client.get(f"/hr/acme-t/employees/{hr_world['employee']}").get_data(as_text=True)

    api_codes = {c["code"] for c in data["certificates"]}
    page_codes = set(re.findall(r"/certificates/([A-Za-z0-9-]+)\"", page))
    assert api_codes == page_codes == codes - {foreign_code}
    for course in data["courses"]:
        assert course["title"] in page
    for program in data["programs"]:
        assert program["program_name"] in page
    assert "Warehouse Automation" not in page
    assert all(p["program_name"] != "Warehouse Automation" for p in data["programs"])
