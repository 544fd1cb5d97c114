"""Registration through an invitation link, and open self-registration as a learner."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.models import Invitation, Membership, OutboundMail, User
from lms.settings import set_self_registration
from lms.timeutil import utcnow
from tests.foundation_factories import (
    PASSWORD,
    count,
    last_mail_to,
    link_in,
    login,
    make_department,
    make_org,
    make_user,
    user_by_email,
)

NEW = "newcomer@example.org"


@pytest.fixture
def org_admin(app):
    """Acme-like organization with one administrator; returns the admin's client."""
    with app.app_context():
        org = make_org("acme", "Acme Manufacturing")
        make_department(org, "Production")
        make_user("boss@acme.example", "Bea Boss", roles=[(org, "org_admin")])
        db.session.commit()
    client = app.test_client()
    assert login(client, "boss@acme.example").status_code == 302
    return client


def invite(app, admin_client, email=NEW, role="learner", department=""):
    """Create an invitation through the admin page; returns the link path from the mail."""
    if department:
        with app.app_context():
            from lms.models import Department

            department = str(
                db.session.scalar(select(Department.id).where(Department.name == department))
            )
    response = admin_client.post(
        "/admin/org/acme/invitations",
        data={"email": email, "role": role, "department": department},
    )
    assert response.status_code == 302, response.data
    with app.app_context():
        mail = last_mail_to(email.lower())
        assert mail is not None
        return link_in(mail.body, "/auth/invitation/")


def register(client, link, name="Nia Newcomer", password="a-good-password-1", confirm=None):
    return client.post(
        link, data={"name": name, "password": password, "confirm": confirm or password}
    )


def test_invitation_token_is_stored_hashed(app, org_admin):
    link = invite(app, org_admin)
    token = link.rsplit("/", 1)[1]
    with app.app_context():
        invitation = db.session.scalar(select(Invitation))
        assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in (invitation.token_hash, invitation.email)
        assert invitation.status == "pending"
        assert (invitation.expires_at - utcnow()).days in (13, 14)


def test_register_through_invitation(app, org_admin):
    link = invite(app, org_admin, NEW, "learner", "Production")
    client = app.test_client()
    page = client.get(link)
    assert page.status_code == 200
    assert b"Join Acme Manufacturing" in page.data and NEW.encode() in page.data
    response = register(client, link)
    assert response.status_code == 302
    assert b"Nia Newcomer" in client.get("/dashboard").data
    with app.app_context():
        user = user_by_email(NEW)
        (membership,) = user.memberships
        assert (membership.role, membership.department.name) == ("learner", "Production")
        invitation = db.session.scalar(select(Invitation))
        assert invitation.status == "accepted" and invitation.accepted_user_id == user.id


def test_invitation_is_single_use(app, org_admin):
    link = invite(app, org_admin)
    register(app.test_client(), link)
    again = app.test_client().get(link)
    assert again.status_code == 410
    assert b"already been used" in again.data
    second = register(app.test_client(), link, name="Somebody Else")
    assert second.status_code == 410
    with app.app_context():
        assert count(User) == 2  # the admin and the first newcomer only


def test_expired_invitation_is_refused(app, org_admin):
    link = invite(app, org_admin)
    with app.app_context():
        db.session.scalar(select(Invitation)).expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    client = app.test_client()
    response = client.get(link)
    assert response.status_code == 410
    assert b"This invitation has expired." in response.data
    assert register(client, link).status_code == 410
    with app.app_context():
        assert user_by_email(NEW) is None


def test_revoked_invitation_is_refused(app, org_admin):
    link = invite(app, org_admin)
    with app.app_context():
        invitation_id = db.session.scalar(select(Invitation.id))
    org_admin.post(f"/admin/org/acme/invitations/{invitation_id}/revoke")
    response = app.test_client().get(link)
    assert response.status_code == 410
    assert b"withdrawn" in response.data


def test_unknown_invitation_token(client):
    response = client.get("/auth/invitation/not-a-token")
    assert response.status_code == 404
    assert b"This invitation link is not valid." in response.data


def test_existing_user_gains_membership_after_logging_in(app, org_admin):
    with app.app_context():
        other = make_org("globex", "Globex Logistics")
        make_user("already@example.org", "Al Ready", roles=[(other, "learner")])
        db.session.commit()
    link = invite(app, org_admin, "Already@Example.org", "trainer")
    client = app.test_client()
    page = client.get(link)
    assert b"Log in to accept" in page.data
    # Registering again with that address is refused, nothing is created.
    refused = register(client, link, name="Imposter")
    assert refused.status_code == 409
    assert b"You already have an EduCluster account" in refused.data
    response = client.post(
        f"/auth/login?next={link}", data={"email": "already@example.org", "password": PASSWORD}
    )
    assert response.headers["Location"].endswith(link)
    assert b"Accept invitation" in client.get(link).data
    accepted = client.post(link, follow_redirects=True)
    assert b"You joined Acme Manufacturing as trainer." in accepted.data
    with app.app_context():
        user = user_by_email("already@example.org")
        assert {(m.organization.slug, m.role) for m in user.memberships} == {
            ("globex", "learner"),
            ("acme", "trainer"),
        }
        assert user.name == "Al Ready"


def test_logged_in_as_someone_else_cannot_accept(app, org_admin):
    link = invite(app, org_admin)
    response = org_admin.get(link)
    assert response.status_code == 403
    assert NEW.encode() in response.data
    assert org_admin.post(link).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(Invitation)).status == "pending"


def test_invitation_registration_form_errors_keep_input(app, org_admin):
    link = invite(app, org_admin)
    client = app.test_client()
    response = register(client, link, name="Nia", password="short")
    assert response.status_code == 400
    assert b"Use between 10 and 200 characters." in response.data
    assert b'value="Nia"' in response.data
    response = register(client, link, password="a-good-password-1", confirm="different-pass-1")
    assert b"The two passwords do not match." in response.data
    with app.app_context():
        assert user_by_email(NEW) is None
        assert db.session.scalar(select(Invitation)).status == "pending"


# --- self-registration -------------------------------------------------------------------------
def _open_registration(app, *org_slugs):
    with app.app_context():
        from tests.foundation_factories import org_by_slug

        ids = {org_by_slug(s).id for s in org_slugs}
        set_self_registration(True, ids)
        db.session.commit()


def test_self_registration_closed_by_default(client):
    assert b"Create a learner account" not in client.get("/auth/login").data
    response = client.get("/auth/register")
    assert response.status_code == 404
    assert b"Registration is by invitation" in response.data
    post = client.post(
        "/auth/register",
        data={"name": "X", "email": "x@example.org", "password": "p" * 12, "confirm": "p" * 12},
    )
    assert post.status_code == 404


def _finish_registration(app, client, email: str, password: str = "a-good-password-1"):
    """Open the mailed link and choose the password (the second step)."""
    with app.app_context():
        link = link_in(last_mail_to(email).body, "/auth/register/")
    assert client.get(link).status_code == 200
    return client.post(link, data={"password": password, "confirm": password})


def test_self_registration_as_learner(app, client):
    with app.app_context():
        make_org("northfield", "Northfield University", "university")
        make_org("closed", "Closed Corp")
        db.session.commit()
    _open_registration(app, "northfield")
    assert b"Create a learner account" in client.get("/auth/login").data
    form = client.get("/auth/register")
    assert b"Northfield University" in form.data and b"Closed Corp" not in form.data
    response = client.post(
        "/auth/register",
        data={"name": "Lea Learner", "email": "Lea@Example.org", "organization": "northfield"},
    )
    assert response.status_code == 200
    assert b"Check your mail" in response.data
    with app.app_context():
        assert user_by_email("lea@example.org") is None  # not before the address is proven
    response = _finish_registration(app, client, "lea@example.org")
    assert response.status_code == 302
    assert b"Lea Learner" in client.get("/dashboard").data
    with app.app_context():
        user = user_by_email("lea@example.org")
        assert [(m.organization.slug, m.role) for m in user.memberships] == [
            ("northfield", "learner")
        ]
        assert not user.is_site_admin


def test_self_registration_without_organizations(app, client):
    _open_registration(app)
    response = client.post(
        "/auth/register", data={"name": "Indie Learner", "email": "indie@example.org"}
    )
    assert response.status_code == 200
    assert _finish_registration(app, client, "indie@example.org").status_code == 302
    with app.app_context():
        assert user_by_email("indie@example.org").memberships == []


def test_self_registration_does_not_reveal_existing_accounts(app, client):
    """Issue 8, item 4: the answer was "An account with this email address already exists"."""
    _open_registration(app)
    with app.app_context():
        make_user("taken@example.org", "Tess Taken")
        db.session.commit()
    answers = []
    for email in ("taken@example.org", "free@example.org"):
        response = client.post("/auth/register", data={"name": "Someone", "email": email})
        answers.append((response.status_code, response.data.replace(email.encode(), b"X")))
    assert answers[0] == answers[1]
    with app.app_context():
        assert "already has one" in last_mail_to("taken@example.org").body
        assert "/auth/register/" in last_mail_to("free@example.org").body
        assert user_by_email("taken@example.org").name == "Tess Taken"


def test_self_registration_mails_are_rate_limited(app, client):
    _open_registration(app)
    for i in range(5):
        response = client.post(
            "/auth/register", data={"name": "Flood", "email": "victim@example.org"}
        )
        assert response.status_code == 200, i
    response = client.post("/auth/register", data={"name": "Flood", "email": "victim@example.org"})
    assert response.status_code == 429
    assert b"Too many requests" in response.data
    with app.app_context():
        assert count(OutboundMail) == 5


def test_registration_link_cannot_be_forged_or_reused(app, client):
    _open_registration(app)
    assert client.get("/auth/register/forged-token").status_code == 302
    client.post("/auth/register", data={"name": "Once Only", "email": "once@example.org"})
    assert _finish_registration(app, client, "once@example.org").status_code == 302
    client.post("/auth/logout")
    with app.app_context():
        link = link_in(last_mail_to("once@example.org").body, "/auth/register/")
    response = client.post(
        link, data={"password": "other-password-9", "confirm": "other-password-9"}
    )
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert login(client, "once@example.org", "other-password-9").status_code == 401


def test_self_registration_cannot_join_a_closed_organization(app, client):
    with app.app_context():
        make_org("northfield", "Northfield University", "university")
        make_org("closed", "Closed Corp")
        db.session.commit()
    _open_registration(app, "northfield")
    for slug in ("closed", "no-such-org", ""):
        response = client.post(
            "/auth/register",
            data={
                "name": "Sneaky",
                "email": "sneaky@example.org",
                "organization": slug,
            },
        )
        assert response.status_code == 400
        assert b"Choose one of the listed organizations." in response.data
    with app.app_context():
        assert user_by_email("sneaky@example.org") is None
        assert count(Membership) == 0
