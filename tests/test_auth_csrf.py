"""With CSRF protection on (as in production), forms without a valid ``csrf_token`` are refused."""

from __future__ import annotations

import re

import pytest

from lms.extensions import db
from tests.foundation_factories import PASSWORD, make_user


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def _token(html: bytes) -> str:
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        rb'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no csrf_token in the form"
    return match.group(1).decode()


def test_login_form_requires_csrf_token(app, client):
    with app.app_context():
        make_user("csrf@example.org")
        db.session.commit()
    page = client.get("/auth/login")
    assert b'name="csrf_token"' in page.data
    refused = client.post("/auth/login", data={"email": "csrf@example.org", "password": PASSWORD})
    assert refused.status_code == 400
    assert b"Log in" in refused.data  # a templated page, not a stack trace
    forged = client.post(
        "/auth/login",
        data={"email": "csrf@example.org", "password": PASSWORD, "csrf_token": "forged"},
    )
    assert forged.status_code == 400
    accepted = client.post(
        "/auth/login",
        data={"email": "csrf@example.org", "password": PASSWORD, "csrf_token": _token(page.data)},
    )
    assert accepted.status_code == 302


def test_logout_requires_csrf_token(app, client):
    with app.app_context():
        make_user("csrf2@example.org")
        db.session.commit()
    page = client.get("/auth/login")
    client.post(
        "/auth/login",
        data={"email": "csrf2@example.org", "password": PASSWORD, "csrf_token": _token(page.data)},
    )
    # A cross-site form cannot log the user out (or do anything else) without the token.
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/dashboard").status_code == 200
