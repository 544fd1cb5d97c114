"""Site administration: organizations, people, settings, the mail outbox, the cluster panel."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.mail import send_mail
from lms.models import Organization
from lms.settings import self_registration_enabled, self_registration_org_ids
from tests.foundation_factories import (
    count,
    login,
    make_org,
    make_user,
    org_by_slug,
    user_by_email,
)

ADMIN = "root@cluster.example"


@pytest.fixture
def site(app):
    with app.app_context():
        uni = make_org("northfield", "Northfield University", "university")
        acme = make_org("acme", "Acme Manufacturing")
        make_user(ADMIN, "Rita Root", site_admin=True)
        make_user("second@cluster.example", "Sam Second", site_admin=True)
        make_user("tess@uni.example", "Tess Trainer", [(uni, "trainer")])
        make_user("lars@uni.example", "Lars Learner", [(uni, "learner")])
        make_user("emma@acme.example", "Emma Employee", [(acme, "learner")])
        make_user("orgboss@acme.example", "Oscar Boss", [(acme, "org_admin")])
        db.session.commit()
    return app


@pytest.fixture
def admin_client(site):
    client = site.test_client()
    assert login(client, ADMIN).status_code == 302
    return client


def test_site_pages_need_site_admin(site):
    client = site.test_client()
    paths = [
        "/admin/site",
        "/admin/site/organizations",
        "/admin/site/organizations/new",
        "/admin/site/users",
        "/admin/site/settings",
        "/admin/site/outbox",
    ]
    for path in paths:  # anonymous: to the login page
        assert client.get(path).status_code == 302
    login(client, "orgboss@acme.example")
    for path in paths:
        assert client.get(path).status_code == 403, path
    assert client.post("/admin/site/organizations/new", data={"name": "X"}).status_code == 403


def test_overview_and_dashboard_panel_show_cluster_figures(admin_client):
    overview = admin_client.get("/admin/site")
    assert overview.status_code == 200
    with admin_client.application.app_context():
        from lms.admin.queries import cluster_figures

        assert cluster_figures() == {
            "organizations": 2,
            "people": 6,
            "learners": 2,
            "trainers": 1,
            "courses": 0,
        }
    dashboard = admin_client.get("/dashboard").data
    assert b"The cluster" in dashboard and b"Open site administration" in dashboard
    assert b"Learners" in dashboard and b"Courses" in dashboard


def test_organizations_list_create_and_edit(site, admin_client):
    listing = admin_client.get("/admin/site/organizations")
    assert b"Northfield University" in listing.data and b"Acme Manufacturing" in listing.data
    created = admin_client.post(
        "/admin/site/organizations/new",
        data={
            "name": "Regional Innovation Lab",
            "slug": "ril",
            "kind": "research",
            "description": "Sensors and data.",
        },
    )
    assert created.status_code == 302
    assert created.headers["Location"].endswith("/admin/org/ril/invitations")
    with site.app_context():
        org = org_by_slug("ril")
        assert (org.name, org.kind, org.description) == (
            "Regional Innovation Lab",
            "research",
            "Sensors and data.",
        )
        org_id = org.id
    edited = admin_client.post(
        f"/admin/site/organizations/{org_id}/edit",
        data={"name": "Regional Innovation Lab", "slug": "ril-lab", "kind": "government"},
    )
    assert edited.status_code == 302
    with site.app_context():
        assert db.session.get(Organization, org_id).slug == "ril-lab"
    assert admin_client.get("/admin/site/organizations/99999/edit").status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"name": "acme manufacturing", "slug": "acme-2"},
            b"Another organization already has this name.",
        ),
        (
            {"name": "Acme Two", "slug": "acme"},
            b"Another organization already uses this short name.",
        ),
        (
            {"name": "Acme Two", "slug": "Acme Two!"},
            b"Use only lower-case letters, digits and single hyphens",
        ),
        ({"name": "", "slug": "x"}, b"Enter the organization&#39;s name."),
        ({"name": "x" * 10_000, "slug": "x"}, b"Use at most 200 characters."),
        (
            {"name": "Acme Two", "slug": "acme-two", "kind": "empire"},
            b"Choose one of the listed kinds.",
        ),
    ],
)
def test_organization_form_errors(site, admin_client, data, message):
    data = {"kind": "enterprise", "description": "", **data}
    response = admin_client.post("/admin/site/organizations/new", data=data)
    assert response.status_code == 400
    assert message in response.data
    assert b"There is a problem" in response.data
    with site.app_context():
        assert count(Organization) == 2


def test_editing_keeps_own_name_but_refuses_anothers(site, admin_client):
    with site.app_context():
        acme = org_by_slug("acme").id
    same = admin_client.post(
        f"/admin/site/organizations/{acme}/edit",
        data={"name": "Acme Manufacturing", "slug": "acme", "kind": "enterprise"},
    )
    assert same.status_code == 302
    clash = admin_client.post(
        f"/admin/site/organizations/{acme}/edit",
        data={"name": "Northfield University", "slug": "acme", "kind": "enterprise"},
    )
    assert clash.status_code == 400 and b"Another organization already has this name." in clash.data


def test_users_search_and_filters(admin_client):
    everyone = admin_client.get("/admin/site/users").data
    assert b"Showing 1\xe2\x80\x936 of 6" in everyone
    assert b"Emma Employee" in admin_client.get("/admin/site/users?q=EMMA").data
    by_email = admin_client.get("/admin/site/users?q=uni.example").data
    assert b"Tess Trainer" in by_email and b"Emma Employee" not in by_email
    acme = admin_client.get("/admin/site/users?org=acme").data
    assert b"Oscar Boss" in acme and b"Lars Learner" not in acme
    learners = admin_client.get("/admin/site/users?org=northfield&role=learner").data
    assert b"Lars Learner" in learners and b"Tess Trainer" not in learners
    admins = admin_client.get("/admin/site/users?role=site_admin").data
    assert b"Sam Second" in admins and b"Emma Employee" not in admins
    unknown = admin_client.get("/admin/site/users?org=no-such-org").data
    assert b"Nobody matches these filters." in unknown
    by_login = admin_client.get("/admin/site/users?sort=email&dir=desc").data
    assert by_login.index(b"tess@uni.example") < by_login.index(b"emma@acme.example")


def test_toggle_active_and_site_admin(site, admin_client):
    with site.app_context():
        emma = user_by_email("emma@acme.example").id
    back = "/admin/site/users?q=emma"
    response = admin_client.post(
        f"/admin/site/users/{emma}/flags", data={"flag": "active", "value": "0", "next": back}
    )
    assert response.headers["Location"].endswith(back)
    assert login(site.test_client(), "emma@acme.example").status_code == 401
    admin_client.post(f"/admin/site/users/{emma}/flags", data={"flag": "active", "value": "1"})
    admin_client.post(
        f"/admin/site/users/{emma}/flags", data={"flag": "is_site_admin", "value": "1"}
    )
    with site.app_context():
        user = user_by_email("emma@acme.example")
        assert user.active and user.is_site_admin
    bogus = admin_client.post(
        f"/admin/site/users/{emma}/flags",
        data={"flag": "password_hash", "value": "1"},
        follow_redirects=True,
    )
    assert b"Unknown setting." in bogus.data
    offsite = admin_client.post(
        f"/admin/site/users/{emma}/flags",
        data={"flag": "active", "value": "1", "next": "https://evil.example/"},
    )
    assert offsite.headers["Location"].endswith("/admin/site/users")


def test_admin_cannot_remove_own_admin_flag_or_deactivate_self(site, admin_client):
    with site.app_context():
        me = user_by_email(ADMIN).id
    response = admin_client.post(
        f"/admin/site/users/{me}/flags",
        data={"flag": "is_site_admin", "value": "0"},
        follow_redirects=True,
    )
    assert b"You cannot remove your own site administrator role" in response.data
    response = admin_client.post(
        f"/admin/site/users/{me}/flags",
        data={"flag": "active", "value": "0"},
        follow_redirects=True,
    )
    assert b"You cannot deactivate your own account." in response.data
    with site.app_context():
        me_now = user_by_email(ADMIN)
        assert me_now.is_site_admin and me_now.active
    assert b"This is you" in admin_client.get("/admin/site/users?q=rita").data


def test_site_settings_toggle_self_registration(site, admin_client):
    with site.app_context():
        uni = org_by_slug("northfield").id
    page = admin_client.get("/admin/site/settings")
    assert b"Allow open self-registration" in page.data
    response = admin_client.post(
        "/admin/site/settings", data={"self_registration": "y", "organizations": [str(uni)]}
    )
    assert response.status_code == 302
    with site.app_context():
        assert self_registration_enabled() and self_registration_org_ids() == {uni}
    assert b"Create a learner account" in site.test_client().get("/auth/login").data
    bogus = admin_client.post(
        "/admin/site/settings", data={"self_registration": "y", "organizations": ["99999"]}
    )
    assert bogus.status_code == 400
    admin_client.post("/admin/site/settings", data={})
    with site.app_context():
        assert not self_registration_enabled() and self_registration_org_ids() == set()


def test_outbox_lists_mails_newest_first(site, admin_client):
    empty = admin_client.get("/admin/site/outbox").data
    assert b"No mail has been sent yet." in empty
    with site.app_context():
        send_mail("first@example.org", "First subject", "Hello")
        send_mail("second@example.org", "Second subject", "Open https://example.org/x?a=1&b=2 now")
        db.session.commit()
        from lms.models import OutboundMail

        second_id = db.session.scalar(
            select(OutboundMail.id).where(OutboundMail.to == "second@example.org")
        )
    page = admin_client.get("/admin/site/outbox").data
    assert page.index(b"Second subject") < page.index(b"First subject")
    assert b"Recorded" in page
    detail = admin_client.get(f"/admin/site/outbox/{second_id}").data
    assert b'<a href="https://example.org/x?a=1&amp;b=2">' in detail
    search = admin_client.get("/admin/site/outbox?q=first").data
    assert b"First subject" in search and b"Second subject" not in search
    assert admin_client.get("/admin/site/outbox/99999").status_code == 404


def test_outbox_escapes_mail_bodies(site, admin_client):
    with site.app_context():
        mail = send_mail("x@example.org", "<b>Hi</b>", "<script>alert(1)</script>")
        db.session.commit()
        mail_id = mail.id
    detail = admin_client.get(f"/admin/site/outbox/{mail_id}").data
    assert b"<script>alert(1)" not in detail and b"&lt;script&gt;" in detail
