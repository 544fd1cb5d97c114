"""The permission matrix: every role x every capability x own/other organization.

The expectations are written out below, one row per capability; a new capability without a row
fails :func:`test_every_capability_has_a_row`, so nobody adds a capability without deciding who
holds it. The second half checks the admin pages over HTTP: 403 for members who lack the right,
404 for everyone outside the organization (its pages must not even be confirmed to exist).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lms.domain.models import Course, CoursePartner, CourseStatus, Visibility
from lms.extensions import db
from lms.models import Membership, Organization, User
from lms.permissions import can, capabilities
from tests.foundation_factories import login, make_department, make_org, make_user

OWN, OTHER = 1, 2  # organization ids
ROLES = ("learner", "trainer", "hr", "org_admin", "site_admin", "anonymous")

# capability -> roles holding it in their OWN organization. Nobody holds anything in the OTHER
# organization except the site admin, who holds everything everywhere; anonymous holds nothing.
OWN_ORG_HOLDERS: dict[str, set[str]] = {
    "site.admin": set(),
    "org.manage": {"org_admin"},
    "org.view_people": {"hr", "org_admin"},
    "org.manage_programs": {"hr", "org_admin"},
    "org.view_progress": {"hr", "org_admin"},
    "org.manage_tokens": {"hr", "org_admin"},
    "org.validate_skills": {"trainer", "org_admin"},
    "org.view_indicators": {"hr", "org_admin"},
    "org.manage_placements": {"hr", "org_admin"},
    "org.record_funding": {"org_admin"},
    "course.create": {"trainer", "org_admin"},
    "course.edit": {"trainer", "org_admin"},
    "course.manage": {"trainer", "org_admin"},
    "course.signoff": {"trainer", "org_admin"},
    # A published, partners-only course: every member of a partner organization sees it.
    "course.view": {"learner", "trainer", "hr", "org_admin"},
    "course.enrol": {"learner", "trainer", "hr", "org_admin"},
    "course.enrol_others": {"trainer", "org_admin"},
    "course.view_reports": {"trainer", "org_admin"},
    "course.override_completion": {"trainer"},
    # Another learner's certificate: HR and org admins of the learner's organization see it.
    "certificate.view": {"hr", "org_admin"},
    "certificate.revoke": {"org_admin"},
}


def organization(org_id: int) -> Organization:
    return Organization(id=org_id, name=f"Org {org_id}", slug=f"org-{org_id}", kind="enterprise")


def course(org_id: int, status: str = CourseStatus.PUBLISHED) -> Course:
    return Course(
        id=100 + org_id,
        slug=f"course-{org_id}",
        title="Course",
        status=status,
        visibility=Visibility.PARTNERS,
        partners=[CoursePartner(organization_id=org_id, role="lead")],
    )


def certificate(org_id: int) -> SimpleNamespace:
    """A certificate of another learner of ``org_id``, issued by ``org_id``."""
    return SimpleNamespace(user_id=999, learner_org_ids={org_id}, issuer_org_ids={org_id})


def target(capability: str, org_id: int):
    """The object a capability is evaluated on, in organization ``org_id``."""
    family = capability.split(".")[0]
    if capability == "site.admin":
        return None
    if family == "org" or capability == "course.create":
        return organization(org_id)
    if capability == "course.signoff":
        return course(org_id, CourseStatus.DRAFT)  # sign-off happens before publication
    if family == "course":
        return course(org_id)
    if family == "certificate":
        return certificate(org_id)
    raise AssertionError(f"no target object defined for capability {capability!r}")


def person(role: str, active: bool = True):
    if role == "anonymous":
        from flask_login import AnonymousUserMixin

        return AnonymousUserMixin()
    user = User(id=10, email=f"{role}@example.org", name=role, active=active)
    user.is_site_admin = role == "site_admin"
    if role != "site_admin":
        user.memberships = [Membership(organization_id=OWN, role=role)]
    return user


def expected(role: str, capability: str, scope: str) -> bool:
    if role == "site_admin":
        return True
    if role == "anonymous" or scope == "other":
        return False
    return role in OWN_ORG_HOLDERS[capability]


def test_every_capability_has_a_row():
    missing = set(capabilities()) - set(OWN_ORG_HOLDERS)
    assert not missing, (
        f"Add a row for {sorted(missing)} to OWN_ORG_HOLDERS in tests/test_permissions_matrix.py"
    )
    assert set(OWN_ORG_HOLDERS) <= set(capabilities()), "the table names unknown capabilities"


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(app, role):
    failures = []
    with app.app_context():
        user = person(role)
        for capability in sorted(OWN_ORG_HOLDERS):
            for scope, org_id in (("own", OWN), ("other", OTHER)):
                got = can(user, capability, target(capability, org_id))
                if got != expected(role, capability, scope):
                    failures.append(f"{role} {capability} {scope}: got {got}")
    assert not failures, "\n".join(failures)


def test_deactivated_accounts_hold_nothing(app):
    with app.app_context():
        for role in ("learner", "trainer", "hr", "org_admin", "site_admin"):
            user = person(role, active=False)
            for capability in OWN_ORG_HOLDERS:
                assert not can(user, capability, target(capability, OWN)), (role, capability)


def test_archived_course_cannot_be_edited_but_still_managed(app):
    with app.app_context():
        trainer = person("trainer")
        archived = course(OWN, CourseStatus.ARCHIVED)
        assert not can(trainer, "course.edit", archived)
        assert can(trainer, "course.manage", archived)
        assert not can(trainer, "course.signoff", course(OWN, CourseStatus.PUBLISHED))


# --- the admin pages over HTTP -----------------------------------------------------------------
EMAILS = {
    "learner": "learner@own.example",
    "trainer": "trainer@own.example",
    "hr": "hr@own.example",
    "org_admin": "admin@own.example",
    "site_admin": "root@cluster.example",
}


@pytest.fixture
def two_orgs(app):
    with app.app_context():
        own = make_org("own", "Own Org")
        other = make_org("other", "Other Org")
        ids = {
            "own_dept": make_department(own, "Own Dept").id,
            "other_dept": make_department(other, "Other Dept").id,
        }
        for role, email in EMAILS.items():
            if role == "site_admin":
                make_user(email, "Root", site_admin=True)
            else:
                make_user(email, role.title(), roles=[(own, role)])
        ids["own_member"] = make_user("m@own.example", "Own Member", [(own, "learner")]).id
        ids["other_member"] = make_user("m@other.example", "Other One", [(other, "learner")]).id
        db.session.commit()
    return ids


ORG_PAGES = [
    # path template, capability the page needs
    ("/admin/org/{org}/members", "org.view_people"),
    ("/admin/org/{org}/members/{member}", "org.manage"),
    ("/admin/org/{org}/departments", "org.manage"),
    ("/admin/org/{org}/departments/{dept}", "org.manage"),
    ("/admin/org/{org}/invitations", "org.manage"),
]
SITE_PAGES = [
    "/admin/site",
    "/admin/site/organizations",
    "/admin/site/organizations/new",
    "/admin/site/users",
    "/admin/site/settings",
    "/admin/site/outbox",
]


def expected_status(role: str, capability: str, scope: str) -> int:
    if role == "anonymous":
        return 302  # to the login page
    if expected(role, capability, scope):
        return 200
    # Members of the organization learn nothing new from a 403; outsiders get 404.
    return 403 if scope == "own" else 404


@pytest.mark.parametrize("role", ROLES)
def test_admin_pages_answer_403_or_404(app, two_orgs, role):
    client = app.test_client()
    if role != "anonymous":
        assert login(client, EMAILS[role]).status_code == 302
    failures = []
    for scope, slug in (("own", "own"), ("other", "other")):
        for template, capability in ORG_PAGES:
            path = template.format(
                org=slug, member=two_orgs[f"{scope}_member"], dept=two_orgs[f"{scope}_dept"]
            )
            status = client.get(path).status_code
            if status != expected_status(role, capability, scope):
                failures.append(f"{role} GET {path}: {status}")
    for path in SITE_PAGES:
        status = client.get(path).status_code
        want = {"site_admin": 200, "anonymous": 302}.get(role, 403)
        if status != want:
            failures.append(f"{role} GET {path}: {status}")
    # State-changing endpoints refuse the same way, and change nothing.
    for scope, slug in (("own", "own"), ("other", "other")):
        response = client.post(
            f"/admin/org/{slug}/invitations", data={"email": "x@example.org", "role": "learner"}
        )
        want = expected_status(role, "org.manage", scope)
        if response.status_code != (302 if want == 200 else want):
            failures.append(f"{role} POST invitations {slug}: {response.status_code}")
    assert not failures, "\n".join(failures)


ORG_CAPABILITIES = sorted(c for c in OWN_ORG_HOLDERS if c.startswith("org."))


@pytest.mark.parametrize("role", ROLES)
def test_an_org_capability_asked_without_an_org_means_in_any_of_theirs(app, role):
    """Menus and panels ask ``can(user, "org.x")``: the same answer as for the user's own
    organization, so a menu never offers what the page then refuses (or hides what it allows)."""
    with app.app_context():
        user = person(role)
        for capability in ORG_CAPABILITIES:
            assert can(user, capability) == expected(role, capability, "own"), (role, capability)


def test_organizations_where_lists_exactly_where_the_capability_holds(app):
    from lms.permissions import organizations_where

    with app.app_context():
        own = Organization(name="Own Org", slug="own-org", kind="enterprise")
        other = Organization(name="Other Org", slug="other-org", kind="enterprise")
        db.session.add_all([own, other])
        db.session.flush()
        hr = User(email="hr-where@example.org", name="HR", active=True)
        hr.memberships = [Membership(organization_id=own.id, role="hr"),
                          Membership(organization_id=other.id, role="learner")]  # fmt: skip
        db.session.add(hr)
        db.session.flush()
        assert [o.slug for o in organizations_where(hr, "org.view_progress")] == ["own-org"]
        assert organizations_where(hr, "org.manage") == []
        db.session.rollback()
