"""Set-based queries behind the admin lists and dashboard panels.

A page costs a fixed number of queries (count, page, one query for the page's memberships),
whatever the number of rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Select, and_, case, distinct, func, or_, select

from lms.domain.models import Course
from lms.extensions import db
from lms.models import Department, Invitation, Membership, Organization, OutboundMail, Role, User
from lms.pagination import SelectPage, paginate
from lms.timeutil import utcnow
from lms.urls import parse_id

USER_SORTS = {
    "name": (func.lower(User.name),),
    "email": (User.email,),
    "last_login": (User.last_login_at,),
    "created": (User.created_at,),
}


@dataclass
class PersonRow:
    """One person in an admin list, with their roles (and department) in context."""

    user: User
    roles: list[str] = field(default_factory=list)
    department: str | None = None
    organizations: list[tuple[str, str, str]] = field(default_factory=list)  # slug, name, role


def contains(column, text: str):
    """Case-insensitive substring match with LIKE wildcards in ``text`` taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def _sorted(stmt: Select, sort: str, direction: str) -> Select:
    columns = USER_SORTS.get(sort, USER_SORTS["name"])
    ordered = [c.desc() if direction == "desc" else c.asc() for c in columns]
    return stmt.order_by(*ordered, User.id)


def _members_of(org_id: int, *conditions) -> Select:
    return select(Membership.user_id).where(Membership.organization_id == org_id, *conditions)


def member_page(
    org: Organization,
    q: str = "",
    role: str = "",
    department: str = "",
    status: str = "",
    sort: str = "name",
    direction: str = "asc",
    per_page: int = 25,
) -> SelectPage:
    """The people of ``org`` filtered by search text, role, department and account status."""
    stmt = select(User).where(User.id.in_(_members_of(org.id)))
    if q:
        stmt = stmt.where(or_(contains(User.name, q), contains(User.email, q)))
    if role:
        stmt = stmt.where(User.id.in_(_members_of(org.id, Membership.role == role)))
    if department == "none":
        stmt = stmt.where(
            User.id.not_in(_members_of(org.id, Membership.department_id.is_not(None)))
        )
    elif (department_id := parse_id(department)) is not None:
        stmt = stmt.where(
            User.id.in_(_members_of(org.id, Membership.department_id == department_id))
        )
    if status in ("active", "inactive"):
        stmt = stmt.where(User.active.is_(status == "active"))
    page = paginate(_sorted(stmt, sort, direction), per_page=per_page)
    rows = {u.id: PersonRow(user=u) for u in page.items}
    if rows:
        memberships = db.session.execute(
            select(Membership.user_id, Membership.role, Department.name)
            .outerjoin(Department, Department.id == Membership.department_id)
            .where(Membership.organization_id == org.id, Membership.user_id.in_(rows))
            .order_by(Membership.role)
        ).all()
        for user_id, member_role, dept_name in memberships:
            rows[user_id].roles.append(member_role)
            rows[user_id].department = rows[user_id].department or dept_name
    page.items = list(rows.values())
    return page


def user_page(
    q: str = "",
    org_slug: str = "",
    role: str = "",
    status: str = "",
    sort: str = "name",
    direction: str = "asc",
    per_page: int = 25,
) -> SelectPage:
    """Every account of the site, with its memberships, for the site administrators."""
    stmt = select(User)
    if q:
        stmt = stmt.where(or_(contains(User.name, q), contains(User.email, q)))
    conditions = []
    if org_slug:
        conditions.append(
            Membership.organization_id.in_(
                select(Organization.id).where(Organization.slug == org_slug)
            )
        )
    if role == "site_admin":
        stmt = stmt.where(User.is_site_admin.is_(True))
    elif role:
        conditions.append(Membership.role == role)
    if conditions:
        stmt = stmt.where(User.id.in_(select(Membership.user_id).where(and_(*conditions))))
    if status in ("active", "inactive"):
        stmt = stmt.where(User.active.is_(status == "active"))
    page = paginate(_sorted(stmt, sort, direction), per_page=per_page)
    rows = {u.id: PersonRow(user=u) for u in page.items}
    if rows:
        memberships = db.session.execute(
            select(Membership.user_id, Organization.slug, Organization.name, Membership.role)
            .join(Organization, Organization.id == Membership.organization_id)
            .where(Membership.user_id.in_(rows))
            .order_by(Organization.name, Membership.role)
        ).all()
        for user_id, slug, name, member_role in memberships:
            rows[user_id].organizations.append((slug, name, member_role))
    page.items = list(rows.values())
    return page


def pending_invitation_filter():
    """SQL condition for invitations neither accepted, revoked nor expired."""
    return and_(
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > utcnow(),
    )


def org_figures(org_ids: list[int]) -> dict[int, dict[str, int]]:
    """Members, active learners and pending invitations per organization, in two queries."""
    figures: dict[int, dict[str, int]] = defaultdict(
        lambda: {"members": 0, "learners": 0, "inactive": 0, "pending": 0}
    )
    if not org_ids:
        return {}
    for org_id, members, learners, inactive in db.session.execute(
        select(
            Membership.organization_id,
            func.count(distinct(Membership.user_id)),
            func.count(distinct(case((Membership.role == Role.LEARNER, Membership.user_id)))),
            func.count(distinct(case((User.active.is_(False), Membership.user_id)))),
        )
        .join(User, User.id == Membership.user_id)
        .where(Membership.organization_id.in_(org_ids))
        .group_by(Membership.organization_id)
    ):
        figures[org_id].update(members=members, learners=learners, inactive=inactive)
    for org_id, pending in db.session.execute(
        select(Invitation.organization_id, func.count(Invitation.id))
        .where(Invitation.organization_id.in_(org_ids), pending_invitation_filter())
        .group_by(Invitation.organization_id)
    ):
        figures[org_id]["pending"] = pending
    return {org_id: figures[org_id] for org_id in org_ids}


def department_counts(org: Organization) -> list[tuple[Department, int]]:
    """Departments of ``org`` with how many people belong to each."""
    return db.session.execute(
        select(Department, func.count(distinct(Membership.user_id)))
        .outerjoin(Membership, Membership.department_id == Department.id)
        .where(Department.organization_id == org.id)
        .group_by(Department.id)
        .order_by(func.lower(Department.name))
    ).all()


def cluster_figures() -> dict[str, int]:
    """The site-wide figures on the site admin's dashboard and overview."""

    def people_with(role: str):
        """Count of distinct people holding a role in any organization."""
        return select(func.count(distinct(Membership.user_id))).where(Membership.role == role)

    row = db.session.execute(
        select(
            select(func.count(Organization.id)).scalar_subquery(),
            select(func.count(User.id)).scalar_subquery(),
            people_with(Role.LEARNER).scalar_subquery(),
            people_with(Role.TRAINER).scalar_subquery(),
            select(func.count(Course.id)).scalar_subquery(),
        )
    ).one()
    keys = ("organizations", "people", "learners", "trainers", "courses")
    return dict(zip(keys, (int(v or 0) for v in row), strict=True))


# --- organizations -----------------------------------------------------------------------------
def organization_rows() -> list[tuple[Organization, int, int]]:
    """Every organization with its member and department counts, by name (one query)."""
    members = (
        select(Membership.organization_id, func.count(distinct(Membership.user_id)).label("n"))
        .group_by(Membership.organization_id)
        .subquery()
    )
    departments = (
        select(Department.organization_id, func.count(Department.id).label("n"))
        .group_by(Department.organization_id)
        .subquery()
    )
    return db.session.execute(
        select(
            Organization,
            func.coalesce(members.c.n, 0),
            func.coalesce(departments.c.n, 0),
        )
        .outerjoin(members, members.c.organization_id == Organization.id)
        .outerjoin(departments, departments.c.organization_id == Organization.id)
        .order_by(func.lower(Organization.name))
    ).all()


def organizations_by_name() -> list[Organization]:
    """Every organization, by name (the site settings' choices)."""
    return list(db.session.scalars(select(Organization).order_by(func.lower(Organization.name))))


def organization_options() -> list[tuple[str, str]]:
    """(slug, name) of every organization, by name (the people list's filter)."""
    return [
        (slug, name)
        for slug, name in db.session.execute(
            select(Organization.slug, Organization.name).order_by(func.lower(Organization.name))
        )
    ]


def organization_by_slug(slug: str) -> Organization | None:
    """The organization with this short name, or None (also for an empty one)."""
    if not slug:
        return None
    return db.session.scalar(select(Organization).where(Organization.slug == slug))


def viewable_orgs(user: User) -> list[Organization]:
    """Organizations where ``user`` is an admin or HR manager, for the nav and the switcher.

    Site administrators reach every organization from the site admin pages instead.
    """
    ids = user.organization_ids(Role.ORG_ADMIN, Role.HR)
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Organization)
            .where(Organization.id.in_(ids))
            .order_by(func.lower(Organization.name))
        )
    )


# --- departments -------------------------------------------------------------------------------
def departments_of(org: Organization) -> list[Department]:
    """The departments of ``org``, by name."""
    return list(
        db.session.scalars(
            select(Department)
            .where(Department.organization_id == org.id)
            .order_by(func.lower(Department.name))
        )
    )


def department_people(department: Department) -> int:
    """How many people belong to ``department``."""
    return (
        db.session.scalar(
            select(func.count(func.distinct(Membership.user_id))).where(
                Membership.department_id == department.id
            )
        )
        or 0
    )


# --- invitations and outbox --------------------------------------------------------------------
INVITATION_STATUS = {
    "pending": lambda now: (
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > now,
    ),
    "accepted": lambda now: (Invitation.accepted_at.is_not(None),),
    "revoked": lambda now: (Invitation.accepted_at.is_(None), Invitation.revoked_at.is_not(None)),
    "expired": lambda now: (
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at <= now,
    ),
}


def invitation_page(org: Organization, status: str = "", per_page: int = 25) -> SelectPage:
    """The invitations of ``org``, newest first, filtered by status (an unknown one: all)."""
    stmt = (
        select(Invitation)
        .where(Invitation.organization_id == org.id)
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )
    if status in INVITATION_STATUS:
        stmt = stmt.where(*INVITATION_STATUS[status](utcnow()))
    return paginate(stmt, per_page=per_page)


def outbox_page(q: str = "", per_page: int = 25) -> SelectPage:
    """The mails the platform sent, newest first, searched in recipient and subject."""
    stmt = select(OutboundMail).order_by(OutboundMail.created_at.desc(), OutboundMail.id.desc())
    if q:
        stmt = stmt.where(or_(contains(OutboundMail.to, q), contains(OutboundMail.subject, q)))
    return paginate(stmt, per_page=per_page)
