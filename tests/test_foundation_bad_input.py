"""Bad input on the foundation's forms: each answer is a clear message, a 4xx (never a 500), and
nothing half-written (the row counts of every table are unchanged)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import Invitation
from lms.settings import set_self_registration
from lms.timeutil import utcnow
from tests.foundation_factories import last_mail_to, link_in, login, make_org, make_user

HUGE = "x" * 10_000


def snapshot() -> dict[str, int]:
    return {
        t.name: db.session.scalar(select(func.count()).select_from(t))
        for t in db.metadata.sorted_tables
        if not t.name.startswith("test_")
    }


@pytest.fixture
def world(app):
    """An organization with an admin, a pending invitation, and open self-registration."""
    with app.app_context():
        org = make_org("acme", "Acme Manufacturing")
        make_user("boss@acme.example", "Bea Boss", [(org, "org_admin")])
        make_user("root@cluster.example", "Rita Root", site_admin=True)
        set_self_registration(True, {org.id})
        db.session.commit()
    admin = app.test_client()
    login(admin, "boss@acme.example")
    admin.post("/admin/org/acme/invitations", data={"email": "new@example.org", "role": "learner"})
    with app.app_context():
        link = link_in(last_mail_to("new@example.org").body, "/auth/invitation/")
    return {"admin": admin, "link": link}


@pytest.fixture
def unchanged(app):
    """Asserts, after the test body, that no table gained or lost rows."""
    with app.app_context():
        before = snapshot()
    yield
    with app.app_context():
        after = snapshot()
    # A test's own login is an intended write (its server-side session), not a half-written row.
    before.pop("login_sessions", None), after.pop("login_sessions", None)
    assert after == before, {t: (before[t], after[t]) for t in before if before[t] != after[t]}


def _registration(name="Nia New", password="a-good-password-1", confirm=None):
    return {"name": name, "password": password, "confirm": confirm or password}


def test_duplicate_email_on_invitation_registration(app, world):
    with app.app_context():
        make_user("new@example.org", "Already Here")  # registered elsewhere in the meantime
        db.session.commit()
        before = snapshot()
    client = app.test_client()
    response = client.post(world["link"], data=_registration())
    assert response.status_code == 409
    assert b"You already have an EduCluster account for new@example.org" in response.data
    with app.app_context():
        assert snapshot() == before
        assert db.session.scalar(select(Invitation)).status == "pending"


def test_duplicate_email_on_self_registration(app, world):
    """The form answers as for a new address (no account enumeration); the owner gets a mail."""
    with app.app_context():
        before = snapshot()
    response = app.test_client().post(
        "/auth/register",
        data={"email": "BOSS@acme.example", "organization": "acme", "name": "Nia New"},
    )
    assert response.status_code == 200
    assert b"already exists" not in response.data
    with app.app_context():
        after = snapshot()
        assert b"already has one" in last_mail_to("boss@acme.example").body.encode()
    # The one mail and its rate-limit counters (address and mailbox) are the intended writes.
    assert after.pop("outbound_mails") == before.pop("outbound_mails") + 1
    assert after.pop("login_throttles") == before.pop("login_throttles") + 2
    assert after == before


def test_expired_invitation(app, world):
    with app.app_context():
        db.session.scalar(select(Invitation)).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        before = snapshot()
    response = app.test_client().post(world["link"], data=_registration())
    assert response.status_code == 410
    assert b"This invitation has expired. Ask the organization" in response.data
    with app.app_context():
        assert snapshot() == before


def test_reused_invitation(app, world):
    assert app.test_client().post(world["link"], data=_registration()).status_code == 302
    with app.app_context():
        before = snapshot()
    response = app.test_client().post(world["link"], data=_registration(name="Second Person"))
    assert response.status_code == 410
    assert b"This invitation has already been used." in response.data
    with app.app_context():
        assert snapshot() == before


def test_wrong_password(app, world):
    with app.app_context():
        before = snapshot()
    client = app.test_client()
    response = login(client, "boss@acme.example", "not-the-password")
    assert response.status_code == 401
    assert b"The email address or password is not right." in response.data
    assert client.get("/dashboard").status_code == 302
    with app.app_context():
        after = snapshot()
    # The failure counters are the one intended write.
    # one counter for the account and address together
    assert after.pop("login_throttles") == before.pop("login_throttles") + 1
    assert after == before


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("invitation", _registration(name=HUGE), b"Use at most 200 characters for your name."),
        (
            "/auth/register",
            {"email": "big@example.org", "organization": "acme", "name": HUGE},
            b"Use at most 200 characters for your name.",
        ),
        (
            "/auth/register",
            {"email": HUGE + "@example.org", "organization": "acme", "name": "Nia New"},
            b"Use at most 254 characters.",
        ),
        ("/auth/login", {"email": HUGE, "password": "whatever"}, b"Field cannot be longer than"),
    ],
)
def test_oversized_fields_as_visitor(app, world, unchanged, path, data, message):
    url = world["link"] if path == "invitation" else path
    response = app.test_client().post(url, data=data)
    assert response.status_code == 400
    assert message in response.data
    assert b"There is a problem" in response.data


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("/admin/org/acme/departments", {"name": HUGE}, b"Use at most 120 characters."),
        (
            "/admin/org/acme/invitations",
            {"email": HUGE + "@example.org", "role": "learner"},
            b"Use at most 254 characters.",
        ),
        ("/auth/account", {"profile-name": HUGE}, b"Field cannot be longer than 200 characters."),
    ],
)
def test_oversized_fields_as_org_admin(world, unchanged, path, data, message):
    response = world["admin"].post(path, data=data)
    assert response.status_code == 400
    assert message in response.data


def test_oversized_organization_as_site_admin(app, world, unchanged):
    client = app.test_client()
    login(client, "root@cluster.example")
    response = client.post(
        "/admin/site/organizations/new",
        data={"name": HUGE, "slug": HUGE, "kind": "enterprise", "description": HUGE},
    )
    assert response.status_code == 400
    for message in (
        b"Use at most 200 characters.",
        b"Use at most 80 characters.",
        b"Use at most 2,000 characters.",
    ):
        assert message in response.data


def test_unknown_organization(app, world, unchanged):
    response = app.test_client().post(
        "/auth/register",
        data={"email": "who@example.org", "organization": "no-such-org", "name": "Nia New"},
    )
    assert response.status_code == 400
    assert b"Choose one of the listed organizations." in response.data
    # Admin pages of an organization that does not exist are plain 404 pages, for everyone.
    assert world["admin"].get("/admin/org/no-such-org/members").status_code == 404
    assert world["admin"].post("/admin/org/no-such-org/invitations", data={}).status_code == 404
    root = app.test_client()
    login(root, "root@cluster.example")
    missing = root.get("/admin/org/no-such-org/members")
    assert missing.status_code == 404 and b"Page not found" in missing.data
    assert b"Nobody matches these filters." in root.get("/admin/site/users?org=no-such-org").data
