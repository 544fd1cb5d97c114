"""Organization administration: members, roles, departments, invitations, nav and panel."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from lms.extensions import db
from lms.models import Department, Invitation, Membership, OutboundMail
from tests.foundation_factories import (
    count,
    login,
    make_department,
    make_org,
    make_user,
    org_by_slug,
    user_by_email,
)

ADMIN = "boss@acme.example"


@pytest.fixture
def acme(app):
    """Acme (two departments, an admin, HR, a trainer, three learners) and Globex (HR)."""
    with app.app_context():
        acme = make_org("acme", "Acme Manufacturing")
        globex = make_org("globex", "Globex Logistics")
        production = make_department(acme, "Production")
        quality = make_department(acme, "Quality")
        make_user(ADMIN, "Bea Boss", roles=[(acme, "org_admin")])
        make_user("hr@acme.example", "Hana HR", roles=[(acme, "hr")])
        make_user("trainer@acme.example", "Tim Trainer", roles=[(acme, "trainer")])
        make_user("ann@acme.example", "Ann Anders", [(acme, "learner")], department=production)
        make_user("bob@acme.example", "Bob Berg", [(acme, "learner")], department=quality)
        make_user("cy@acme.example", "Cy Cole", [(acme, "learner")])
        make_user("hr@globex.example", "Gus Globex", roles=[(globex, "hr")])
        make_user("both@example.org", "Bo Both", [(acme, "learner"), (globex, "learner")])
        db.session.commit()
    return app


@pytest.fixture
def admin_client(acme):
    client = acme.test_client()
    assert login(client, ADMIN).status_code == 302
    return client


def client_for(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def has_nav_link(html: bytes, label: str) -> bool:
    """Whether the top bar's main navigation has a link labelled ``label``."""
    nav = html.split(b'<nav aria-label="Main">', 1)[-1].split(b"</nav>", 1)[0]
    return re.search(rb"<a [^>]*>\s*" + re.escape(label.encode()) + rb"\s*</a>", nav) is not None


@contextmanager
def count_queries(app):
    queries: list[str] = []

    def before(conn, cursor, statement, *args):
        queries.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield queries
    finally:
        event.remove(engine, "before_cursor_execute", before)


# --- members -----------------------------------------------------------------------------------
def test_members_list_shows_own_people_only(admin_client):
    page = admin_client.get("/admin/org/acme/members")
    assert page.status_code == 200
    for name in (b"Bea Boss", b"Hana HR", b"Ann Anders", b"Bob Berg", b"Bo Both"):
        assert name in page.data
    assert b"Gus Globex" not in page.data
    assert b"Showing 1\xe2\x80\x937 of 7" in page.data
    assert b'aria-sort="ascending"' in page.data


def test_members_search_and_filters(admin_client):
    search = admin_client.get("/admin/org/acme/members?q=ANN").data
    assert b"Ann Anders" in search and b"Bob Berg" not in search
    by_email = admin_client.get("/admin/org/acme/members?q=bob@").data
    assert b"Bob Berg" in by_email and b"Ann Anders" not in by_email
    wildcard = admin_client.get("/admin/org/acme/members?q=%25").data
    assert b"No member matches these filters." in wildcard
    trainers = admin_client.get("/admin/org/acme/members?role=trainer").data
    assert b"Tim Trainer" in trainers and b"Ann Anders" not in trainers
    with admin_client.application.app_context():
        quality = db.session.scalar(select(Department.id).where(Department.name == "Quality"))
    dept = admin_client.get(f"/admin/org/acme/members?department={quality}").data
    assert b"Bob Berg" in dept and b"Ann Anders" not in dept
    none = admin_client.get("/admin/org/acme/members?department=none").data
    assert b"Cy Cole" in none and b"Bob Berg" not in none
    # Garbage filter values are ignored or match nothing; never an error.
    assert (
        admin_client.get("/admin/org/acme/members?department=abc&role=x&page=zz").status_code == 200
    )


def test_members_list_is_paginated_with_constant_queries(acme, admin_client):
    admin_client.get("/admin/org/acme/members")  # warm up
    with count_queries(acme) as few:
        admin_client.get("/admin/org/acme/members")
    with acme.app_context():
        org = org_by_slug("acme")
        for i in range(40):
            make_user(f"p{i:02d}@acme.example", f"Person {i:02d}", [(org, "learner")])
        db.session.commit()
    with count_queries(acme) as many:
        page = admin_client.get("/admin/org/acme/members")
    assert len(many) == len(few)
    assert b"Showing 1\xe2\x80\x9325 of 47" in page.data
    second = admin_client.get("/admin/org/acme/members?page=2")
    assert b"Showing 26\xe2\x80\x9347 of 47" in second.data
    assert b"Page 2 of 2" in second.data


def test_change_roles_and_department(acme, admin_client):
    with acme.app_context():
        ann = user_by_email("ann@acme.example").id
        quality = db.session.scalar(select(Department.id).where(Department.name == "Quality"))
    page = admin_client.get(f"/admin/org/acme/members/{ann}")
    assert page.status_code == 200 and b"Save roles" in page.data
    response = admin_client.post(
        f"/admin/org/acme/members/{ann}",
        data={"roles": ["learner", "trainer"], "department": str(quality)},
    )
    assert response.status_code == 302
    with acme.app_context():
        rows = db.session.execute(
            select(Membership.role, Membership.department_id).where(Membership.user_id == ann)
        ).all()
        assert sorted(rows) == [("learner", quality), ("trainer", quality)]


def test_member_roles_form_errors(acme, admin_client):
    with acme.app_context():
        ann = user_by_email("ann@acme.example").id
        boss = user_by_email(ADMIN).id
        other_dept = make_department(org_by_slug("globex"), "Warehouse").id
        db.session.commit()
    none = admin_client.post(f"/admin/org/acme/members/{ann}", data={"department": ""})
    assert none.status_code == 400 and b"Choose at least one role." in none.data
    bogus = admin_client.post(f"/admin/org/acme/members/{ann}", data={"roles": ["emperor"]})
    assert bogus.status_code == 400 and b"Choose only the listed roles." in bogus.data
    foreign = admin_client.post(
        f"/admin/org/acme/members/{ann}", data={"roles": ["learner"], "department": other_dept}
    )
    assert foreign.status_code == 400
    assert b"Choose one of this organization&#39;s departments." in foreign.data
    own = admin_client.post(f"/admin/org/acme/members/{boss}", data={"roles": ["learner"]})
    assert own.status_code == 400 and b"cannot remove your own administrator role" in own.data
    with acme.app_context():
        assert user_by_email(ADMIN).roles_in(org_by_slug("acme").id) == {"org_admin"}
        assert user_by_email("ann@acme.example").roles_in(org_by_slug("acme").id) == {"learner"}


def test_member_of_another_org_is_404(acme, admin_client):
    with acme.app_context():
        gus = user_by_email("hr@globex.example").id
    assert admin_client.get(f"/admin/org/acme/members/{gus}").status_code == 404
    assert admin_client.get("/admin/org/acme/members/999999").status_code == 404


def test_deactivate_and_reactivate_member(acme, admin_client):
    with acme.app_context():
        cy = user_by_email("cy@acme.example").id
    response = admin_client.post(
        f"/admin/org/acme/members/{cy}/active", data={"value": "0"}, follow_redirects=True
    )
    assert b"Cy Cole was deactivated" in response.data
    assert login(acme.test_client(), "cy@acme.example").status_code == 401
    admin_client.post(f"/admin/org/acme/members/{cy}/active", data={"value": "1"})
    assert login(acme.test_client(), "cy@acme.example").status_code == 302


def test_cannot_deactivate_someone_shared_with_another_org_or_oneself(acme, admin_client):
    with acme.app_context():
        both = user_by_email("both@example.org").id
        boss = user_by_email(ADMIN).id
    response = admin_client.post(
        f"/admin/org/acme/members/{both}/active", data={"value": "0"}, follow_redirects=True
    )
    assert b"also belongs to Globex Logistics" in response.data
    response = admin_client.post(
        f"/admin/org/acme/members/{boss}/active", data={"value": "0"}, follow_redirects=True
    )
    assert b"You cannot deactivate your own account." in response.data
    with acme.app_context():
        assert user_by_email("both@example.org").active and user_by_email(ADMIN).active


# --- departments -------------------------------------------------------------------------------
def test_departments_create_rename_delete(acme, admin_client):
    page = admin_client.get("/admin/org/acme/departments")
    assert b"Production" in page.data and b"Quality" in page.data
    created = admin_client.post(
        "/admin/org/acme/departments", data={"name": "Logistics"}, follow_redirects=True
    )
    assert b"Department Logistics was created." in created.data
    duplicate = admin_client.post("/admin/org/acme/departments", data={"name": " production "})
    assert duplicate.status_code == 400
    assert b"already has a department called production" in duplicate.data
    too_long = admin_client.post("/admin/org/acme/departments", data={"name": "x" * 121})
    assert too_long.status_code == 400 and b"Use at most 120 characters." in too_long.data
    with acme.app_context():
        quality = db.session.scalar(select(Department.id).where(Department.name == "Quality"))
    clash = admin_client.post(f"/admin/org/acme/departments/{quality}", data={"name": "Logistics"})
    assert clash.status_code == 400 and b"already has a department called" in clash.data
    renamed = admin_client.post(
        f"/admin/org/acme/departments/{quality}", data={"name": "Quality Lab"}
    )
    assert renamed.status_code == 302
    deleted = admin_client.post(
        f"/admin/org/acme/departments/{quality}/delete", follow_redirects=True
    )
    assert b"Department Quality Lab was deleted. 1 people no longer have a department." in (
        deleted.data
    )
    with acme.app_context():
        names = set(db.session.scalars(select(Department.name)))
        assert names == {"Production", "Logistics"}
        bob = user_by_email("bob@acme.example")
        assert [m.department_id for m in bob.memberships] == [None]
        assert count(Department) == 2


def test_other_orgs_department_is_404(acme, admin_client):
    with acme.app_context():
        foreign = make_department(org_by_slug("globex"), "Warehouse").id
        db.session.commit()
    assert admin_client.get(f"/admin/org/acme/departments/{foreign}").status_code == 404
    assert admin_client.post(f"/admin/org/acme/departments/{foreign}/delete").status_code == 404
    assert admin_client.get(f"/admin/org/globex/departments/{foreign}").status_code == 404


# --- invitations -------------------------------------------------------------------------------
def test_create_invitation_shows_link_once_and_mails_it(acme, admin_client):
    response = admin_client.post(
        "/admin/org/acme/invitations",
        data={"email": "New.Person@Example.org", "role": "trainer", "department": ""},
        follow_redirects=True,
    )
    assert b"Invitation sent to new.person@example.org." in response.data
    assert b"/auth/invitation/" in response.data  # the link, shown once
    again = admin_client.get("/admin/org/acme/invitations")
    assert b"/auth/invitation/" not in again.data
    assert b"new.person@example.org" in again.data and b"Pending" in again.data
    with acme.app_context():
        mail = db.session.scalar(select(OutboundMail))
        assert mail.to == "new.person@example.org"
        assert "Acme Manufacturing" in mail.subject and "/auth/invitation/" in mail.body
        assert "Bea Boss" in mail.body


def test_invitation_form_errors(acme, admin_client):
    def post(**data):
        data.setdefault("role", "learner")
        data.setdefault("department", "")
        return admin_client.post("/admin/org/acme/invitations", data=data)

    bad = post(email="not-an-email")
    assert bad.status_code == 400 and b"Enter a valid email address" in bad.data
    member = post(email="ann@acme.example")
    assert (
        member.status_code == 400 and b"already has this role in Acme Manufacturing" in member.data
    )
    assert post(email="ann@acme.example", role="trainer").status_code == 302
    pending = post(email="ANN@acme.example", role="hr")
    assert pending.status_code == 400 and b"already has a pending invitation" in pending.data
    role = post(email="x@example.org", role="emperor")
    assert role.status_code == 400 and b"Choose one of the listed roles." in role.data
    with acme.app_context():
        foreign = make_department(org_by_slug("globex"), "Warehouse").id
        db.session.commit()
    dept = post(email="y@example.org", department=str(foreign))
    assert dept.status_code == 400
    with acme.app_context():
        assert count(Invitation) == 1 and count(OutboundMail) == 1


def test_invitation_statuses_filter_and_revoke(acme, admin_client):
    from datetime import timedelta

    from lms.timeutil import utcnow

    for email in ("p@example.org", "a@example.org", "e@example.org", "r@example.org"):
        admin_client.post("/admin/org/acme/invitations", data={"email": email, "role": "learner"})
    with acme.app_context():
        invitations = {i.email: i for i in db.session.scalars(select(Invitation))}
        invitations["a@example.org"].accepted_at = utcnow()
        invitations["e@example.org"].expires_at = utcnow() - timedelta(days=1)
        revoke_id = invitations["r@example.org"].id
        db.session.commit()
    response = admin_client.post(
        f"/admin/org/acme/invitations/{revoke_id}/revoke", follow_redirects=True
    )
    assert b"The invitation for r@example.org was revoked." in response.data
    twice = admin_client.post(
        f"/admin/org/acme/invitations/{revoke_id}/revoke", follow_redirects=True
    )
    assert b"Only pending invitations can be revoked." in twice.data
    for status, email in [
        ("pending", b"p@example.org"),
        ("accepted", b"a@example.org"),
        ("expired", b"e@example.org"),
        ("revoked", b"r@example.org"),
    ]:
        page = admin_client.get(f"/admin/org/acme/invitations?status={status}").data
        others = {b"p@example.org", b"a@example.org", b"e@example.org", b"r@example.org"} - {email}
        assert email in page and not any(o in page for o in others), status


# --- access, nav, panel, switcher --------------------------------------------------------------
def test_hr_sees_people_but_cannot_manage(acme):
    hr = client_for(acme, "hr@acme.example")
    page = hr.get("/admin/org/acme/members")
    assert page.status_code == 200 and b"Ann Anders" in page.data
    assert b"/admin/org/acme/members/" not in page.data  # no edit links
    assert b"Invite people" not in page.data
    with acme.app_context():
        ann = user_by_email("ann@acme.example").id
    assert hr.get(f"/admin/org/acme/members/{ann}").status_code == 403
    assert hr.get("/admin/org/acme/departments").status_code == 403
    assert hr.get("/admin/org/acme/invitations").status_code == 403
    assert (
        hr.post("/admin/org/acme/invitations", data={"email": "z@example.org"}).status_code == 403
    )


def test_other_organizations_pages_are_404(acme):
    gus = client_for(acme, "hr@globex.example")
    for path in ("members", "departments", "invitations"):
        assert gus.get(f"/admin/org/acme/{path}").status_code == 404
    assert gus.get("/admin/org/no-such-org/members").status_code == 404
    learner = client_for(acme, "ann@acme.example")
    assert learner.get("/admin/org/acme/members").status_code == 403
    assert learner.get("/admin/org/globex/members").status_code == 404
    assert learner.get("/admin/org").status_code == 403


def test_organization_nav_and_dashboard_panel(acme, admin_client):
    dashboard = admin_client.get("/dashboard").data
    assert has_nav_link(dashboard, "Organization")
    assert b"Your organization" in dashboard
    assert b"Acme Manufacturing" in dashboard
    admin_client.post("/admin/org/acme/invitations", data={"email": "n@example.org"})
    with acme.app_context():
        from lms.admin.queries import org_figures

        figures = org_figures([org_by_slug("acme").id])[org_by_slug("acme").id]
    assert figures == {"members": 7, "learners": 4, "inactive": 0, "pending": 1}
    assert admin_client.get("/admin/org").headers["Location"].endswith("/admin/org/acme/members")
    learner = client_for(acme, "ann@acme.example").get("/dashboard").data
    assert not has_nav_link(learner, "Organization") and b"Your organization" not in learner
    hr = client_for(acme, "hr@acme.example").get("/dashboard").data
    assert has_nav_link(hr, "Organization")


def test_org_switcher_for_admins_of_several_orgs(acme, admin_client):
    with acme.app_context():
        boss = user_by_email(ADMIN)
        db.session.add(
            Membership(user_id=boss.id, organization_id=org_by_slug("globex").id, role="org_admin")
        )
        db.session.commit()
    home = admin_client.get("/admin/org")
    assert home.status_code == 200
    assert b"Acme Manufacturing" in home.data and b"Globex Logistics" in home.data
    page = admin_client.get("/admin/org/acme/departments").data
    assert b"Switch organization" in page
    assert b'href="/admin/org/globex/departments"' in page
    assert admin_client.get("/admin/org/globex/members").status_code == 200
