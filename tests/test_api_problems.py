"""JSON endpoints answer bad input with a 4xx application/problem+json, never a 5xx.

Probes /api/v1 (missing or wrong token, unknown or foreign ids, bad parameters and cursors) and
the ``.json`` endpoints of certificates, xAPI and labs.
"""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import select

from lms.extensions import db
from tests.crawler import login

HUGE = "99999999999999999999"


@pytest.fixture
def app_config():
    return {"PROPAGATE_EXCEPTIONS": False}


@pytest.fixture
def acme_secret(demo):
    """A personal access token of Acme's HR manager (created like the UI does)."""
    from lms.api.tokens import create_token
    from lms.models import Organization, User

    with demo.app_context():
        acme = db.session.scalars(select(Organization).where(Organization.slug == "acme")).one()
        hr = db.session.scalars(select(User).where(User.email == "hr@acme.demo")).one()
        _, secret = create_token(acme, "QA probe", hr)
        db.session.commit()
    return secret


def cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


def assert_problem(response, status: int | None = None) -> dict:
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data()[:300])
    if status is not None:
        assert response.status_code == status
    assert response.content_type == "application/problem+json", response.content_type
    body = response.get_json()
    assert body["status"] == response.status_code and body["title"]
    return body


def _user_id(app, email: str) -> int:
    from lms.models import User

    with app.app_context():
        return db.session.scalars(select(User.id).where(User.email == email)).one()


ENDPOINTS = [
    "/api/v1/organization",
    "/api/v1/programs",
    "/api/v1/assignments",
    "/api/v1/employees",
    "/api/v1/completions",
]


def test_api_without_or_with_a_wrong_token(client, demo):
    for url in ENDPOINTS:
        assert_problem(client.get(url), 401)
        bad = client.get(url, headers={"Authorization": "Bearer nope"})
        assert_problem(bad, 401)
        assert "Bearer" in bad.headers["WWW-Authenticate"]
        assert_problem(client.get(url, headers={"Authorization": "Basic dXNlcjpwdw=="}), 401)


def test_api_bad_parameters_and_ids(client, demo, acme_secret):
    headers = {"Authorization": f"Bearer {acme_secret}"}
    globex_learner = _user_id(demo, "employee@globex.demo")
    bad_urls = [
        "/api/v1/programs/0",
        f"/api/v1/programs/{HUGE}",
        f"/api/v1/employees/{globex_learner}/transcript",
        f"/api/v1/employees/{HUGE}/transcript",
        "/api/v1/no-such-endpoint",
    ]
    for name in ("assignments", "employees"):
        for value in ("abc", "0", "-1", HUGE, "\u00b2", "1" * 5000):
            bad_urls.append(f"/api/v1/{name}?limit={value}")
        for value in (
            "garbage",
            "%%%",
            cursor([1]),
            cursor({"after": "x"}),
            cursor({"after": 10**30}),
            cursor({"after": -(10**30)}),
        ):
            bad_urls.append(f"/api/v1/{name}?cursor={value}")
    for value in ("garbage", "2026-13-45", "2026-02-30T00:00:00Z", "9999999-01-01"):
        bad_urls.append(f"/api/v1/completions?since={value}")
    bad_urls.append(f"/api/v1/completions?cursor={cursor({'seq': 10**30})}")
    bad_urls.append(f"/api/v1/completions?cursor={cursor({'seq': 'x'})}")
    bad_urls.append("/api/v1/assignments?status=bogus")
    failures = []
    for url in bad_urls:
        response = client.get(url, headers=headers)
        if not (
            400 <= response.status_code < 500
            and response.content_type == "application/problem+json"
        ):
            failures.append(f"{url[:120]} -> {response.status_code} {response.content_type}")
    assert not failures, "\n".join(failures)
    assert_problem(client.post("/api/v1/employees", headers=headers), 405)
    # And the good path still answers JSON.
    assert client.get("/api/v1/employees?limit=2", headers=headers).status_code == 200


def test_json_endpoints_outside_the_api(client, demo):
    from lms.credentials.models import Certificate

    with demo.app_context():
        code = db.session.scalars(select(Certificate.code).limit(1)).one()
    from lms.models import Organization

    globex_learner = _user_id(demo, "employee@globex.demo")
    with demo.app_context():
        globex = db.session.scalars(
            select(Organization.id).where(Organization.slug == "globex")
        ).one()
    # Signed out: a problem, not a redirect to the HTML login page.
    for url in (
        "/xapi/me.json",
        f"/xapi/users/{globex_learner}.json",
        "/xapi/organizations/1.json",
    ):
        assert_problem(client.get(url), 401)
    assert_problem(client.get(f"/certificates/{code}/credential.json"), 401)
    login(client, "hr@acme.demo")
    for url in (
        f"/xapi/users/{globex_learner}.json",
        f"/xapi/users/{HUGE}.json",
        f"/xapi/organizations/{globex}.json",
        f"/xapi/organizations/{HUGE}.json",
        "/certificates/NOPE-NOPE/credential.json",
        "/labs/submissions/0.json",
        f"/labs/submissions/{HUGE}.json",
    ):
        assert_problem(client.get(url), 404)
    # The public credential check: bad bodies are 4xx JSON, never 5xx.
    for body, kwargs in (
        ("", {}),
        ("not json", {"content_type": "application/json"}),
        ("[1, 2]", {"content_type": "application/json"}),
        ('{"proof": 5}', {"content_type": "application/json"}),
        ("x" * 70_000, {"content_type": "application/json"}),
    ):
        response = client.post("/verify/credential.json", data=body, **kwargs)
        assert response.status_code < 500, (body[:20], response.status_code)
