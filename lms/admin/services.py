"""Administration services: organizations, departments, members and accounts.

Each raises :class:`DomainError` (with the form field when there is one) for a refused change and
flushes; the view commits once, so a refusal leaves nothing half-written.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, update

from lms.auth import services as account_services
from lms.errors import Conflict, DomainError
from lms.extensions import db
from lms.mail import send_mail
from lms.models import Department, Invitation, Membership, Organization, OrgKind, Role, User
from lms.permissions import can
from lms.urls import absolute_url, parse_id


# --- organizations -----------------------------------------------------------------------------
def _check_org_unique(name: str, slug: str, exclude_id: int | None) -> None:
    def taken(column, value) -> bool:
        """Whether another organization already uses this value (case-insensitive)."""
        stmt = select(Organization.id).where(func.lower(column) == value.lower())
        if exclude_id is not None:
            stmt = stmt.where(Organization.id != exclude_id)
        return db.session.scalar(stmt) is not None

    if taken(Organization.name, name):
        raise Conflict("Another organization already has this name.", field="name")
    if taken(Organization.slug, slug):
        raise Conflict("Another organization already uses this short name.", field="slug")


def save_organization(
    org: Organization | None, name: str, slug: str, kind: str, description: str
) -> Organization:
    """Create (``org`` is None) or update an organization; names and slugs are unique."""
    name, slug = name.strip(), slug.strip().lower()
    if kind not in {k.value for k in OrgKind}:
        raise DomainError("Choose one of the listed kinds.", field="kind")
    _check_org_unique(name, slug, org.id if org else None)
    if org is None:
        org = Organization()
        db.session.add(org)
    org.name, org.slug, org.kind, org.description = name, slug, kind, (description or "").strip()
    db.session.flush()
    return org


# --- departments -------------------------------------------------------------------------------
def _check_department_unique(org: Organization, name: str, exclude_id: int | None) -> None:
    stmt = select(Department.id).where(
        Department.organization_id == org.id, func.lower(Department.name) == name.lower()
    )
    if exclude_id is not None:
        stmt = stmt.where(Department.id != exclude_id)
    if db.session.scalar(stmt) is not None:
        raise Conflict(f"{org.name} already has a department called {name}.", field="name")


def create_department(org: Organization, name: str) -> Department:
    """Add a department to an organization, refusing a duplicate name."""
    name = name.strip()
    _check_department_unique(org, name, None)
    department = Department(organization=org, name=name)
    db.session.add(department)
    db.session.flush()
    return department


def rename_department(department: Department, name: str) -> None:
    """Rename a department, refusing a name already used in its organization."""
    name = name.strip()
    _check_department_unique(department.organization, name, department.id)
    department.name = name
    db.session.flush()


def delete_department(department: Department) -> int:
    """Delete a department; its people stay in the organization without one. Returns how many
    memberships were detached."""
    detached = db.session.execute(
        update(Membership)
        .where(Membership.department_id == department.id)
        .values(department_id=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.delete(department)
    db.session.flush()
    return detached or 0


def department_choice(org: Organization, value: str | None) -> Department | None:
    """The department of ``org`` a form's choice names: None for no choice, a refusal for a
    value that is no department of ``org`` (it used to clear the department silently)."""
    if not value:
        return None
    dept_id = parse_id(value)
    department = db.session.get(Department, dept_id) if dept_id is not None else None
    if department is None or department.organization_id != org.id:
        raise DomainError("Choose one of this organization's departments.", field="department")
    return department


# --- members -----------------------------------------------------------------------------------
def set_member_roles(
    org: Organization, user: User, roles: set[str], department_id: int | None, actor: User
) -> None:
    """Replace ``user``'s roles in ``org`` and set their department there."""
    valid = {r.value for r in Role}
    if not roles:
        raise DomainError("Choose at least one role.", field="roles")
    if not roles <= valid:
        raise DomainError("Choose only the listed roles.", field="roles")
    if department_id is not None:
        dept = db.session.get(Department, department_id)
        if dept is None or dept.organization_id != org.id:
            raise DomainError("Choose one of this organization's departments.", field="department")
    current = user.roles_in(org.id)
    if (
        user.id == actor.id
        and Role.ORG_ADMIN in current
        and Role.ORG_ADMIN not in roles
        and not actor.is_site_admin
    ):
        raise DomainError(
            "You cannot remove your own administrator role: ask another administrator.",
            field="roles",
        )
    removed = current - roles
    if removed:
        db.session.execute(
            delete(Membership)
            .where(
                Membership.user_id == user.id,
                Membership.organization_id == org.id,
                Membership.role.in_(removed),
            )
            .execution_options(synchronize_session=False)
        )
    for role in roles - current:
        db.session.add(Membership(user_id=user.id, organization_id=org.id, role=role))
    db.session.flush()
    db.session.execute(
        update(Membership)
        .where(Membership.user_id == user.id, Membership.organization_id == org.id)
        .values(department_id=department_id)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    db.session.expire(user, ["memberships"])


def set_member_active(org: Organization, user: User, active: bool, actor: User) -> None:
    """Deactivate or reactivate an account from an organization's admin pages.

    An account is one person across the cluster, so an org admin may switch it off only when
    every organization the person belongs to is one the admin manages.
    """
    if user.id == actor.id:
        raise DomainError("You cannot deactivate your own account.")
    if user.is_site_admin and not actor.is_site_admin:
        raise DomainError("Only a site administrator can change a site administrator's account.")
    foreign = db.session.scalars(
        select(Organization)
        .where(
            Organization.id != org.id,
            Organization.id.in_(
                select(Membership.organization_id).where(Membership.user_id == user.id)
            ),
        )
        .order_by(Organization.name)
    ).all()
    others = [o.name for o in foreign if not can(actor, "org.manage", o)]
    if others:
        raise DomainError(
            f"{user.name} also belongs to {', '.join(others)}; only a site administrator can "
            "change this account."
        )
    user.active = active
    db.session.flush()


# --- site accounts -----------------------------------------------------------------------------
def set_user_flag(user: User, flag: str, value: bool, actor: User) -> None:
    """Site admins switch accounts on or off and grant or remove site administration."""
    if flag not in {"active", "is_site_admin"}:
        raise DomainError("Unknown setting.")
    if user.id == actor.id and not value:
        if flag == "is_site_admin":
            raise DomainError(
                "You cannot remove your own site administrator role: ask another administrator."
            )
        raise DomainError("You cannot deactivate your own account.")
    setattr(user, flag, value)
    db.session.flush()


# --- invitations -------------------------------------------------------------------------------
def send_invitation(
    org: Organization, email: str, role: str, department_value: str | None, actor: User
) -> tuple[Invitation, str]:
    """Invite someone to ``org`` and mail them the link; returns the invitation and the link
    (shown once to the inviter: only its hash is stored)."""
    department = department_choice(org, department_value)
    invitation, token = account_services.create_invitation(org, email, role, department, actor)
    link = absolute_url("auth.invitation", token=token)
    send_mail(
        invitation.email,
        f"You are invited to join {org.name} on EduCluster",
        account_services.invitation_mail_body(invitation, link, actor.name),
    )
    return invitation, link
