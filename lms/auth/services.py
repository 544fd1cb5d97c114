"""Account services: invitations (create, accept, revoke) and registration.

Services flush and never commit: the view commits once, so a refused step leaves no partial rows.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from lms.errors import Conflict, DomainError
from lms.extensions import db
from lms.models import ROLE_LABELS, Department, Invitation, Membership, Organization, Role, User
from lms.passwords import hash_password, needs_rehash, verify_password
from lms.timeutil import utcnow

INVITATION_MESSAGES = {
    "accepted": "This invitation has already been used. Log in with the account that accepted it.",
    "revoked": "This invitation was withdrawn by the organization. Ask its administrator for a new one.",
    "expired": "This invitation has expired. Ask the organization's administrator to send a new one.",
}


def hash_token(token: str) -> str:
    """Only this hash is stored: a copy of the database does not hold usable links."""
    return hashlib.sha256(token.encode()).hexdigest()


def find_user(email: str) -> User | None:
    """User with this email, compared case-insensitively."""
    return db.session.scalar(select(User).where(User.email == User.normalise_email(email)))


@functools.cache
def _stand_in_hash() -> str:
    # Same method and cost as real passwords (User.set_password): checking it takes as long.
    return hash_password(secrets.token_hex(16))


def authenticate(email: str, password: str) -> User | None:
    """The active account with this email and password, else None.

    The password hash is checked whether or not the account exists (against a stand-in hash
    when it does not), so the answer's timing does not tell which addresses have accounts.
    A hash of an older method (Werkzeug's scrypt or pbkdf2) is replaced by the Argon2id hash of
    the password just checked (flushed with the login): the account is upgraded at its next
    login, without a reset. Like any change of the stored hash, this ends the account's other
    open sessions once (see ``User.credentials_fingerprint``).
    """
    user = find_user(email)
    stored = user.password_hash if user is not None and user.password_hash else _stand_in_hash()
    matches = verify_password(stored, password or "")
    if user is None or not user.password_hash or not matches or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def ensure_member(
    user: User, org: Organization, role: str, department_id: int | None = None
) -> Membership:
    """Give ``user`` ``role`` in ``org`` (idempotent); a department applies to every role there."""
    membership = db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.organization_id == org.id,
            Membership.role == role,
        )
    )
    if membership is None:
        membership = Membership(user=user, organization=org, role=role)
        db.session.add(membership)
    if department_id is not None:
        db.session.execute(
            update(Membership)
            .where(Membership.user_id == user.id, Membership.organization_id == org.id)
            .values(department_id=department_id)
        )
        membership.department_id = department_id
    db.session.flush()
    return membership


# --- invitations -------------------------------------------------------------------------------
def create_invitation(
    org: Organization,
    email: str,
    role: str,
    department: Department | None,
    invited_by: User | None,
) -> tuple[Invitation, str]:
    """Create a pending invitation; returns it with the clear token (shown and mailed once)."""
    email = User.normalise_email(email)
    if role not in {r.value for r in Role}:
        raise DomainError("Choose one of the listed roles.", field="role")
    if department is not None and department.organization_id != org.id:
        raise DomainError("Choose one of this organization's departments.", field="department")
    already = db.session.scalar(
        select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(User.email == email, Membership.organization_id == org.id, Membership.role == role)
    )
    if already:
        raise Conflict(f"{email} already has this role in {org.name}.", field="email")
    now = utcnow()
    pending = db.session.scalar(
        select(Invitation.id).where(
            Invitation.organization_id == org.id,
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
    )
    if pending:
        raise Conflict(
            f"{email} already has a pending invitation. Revoke it first to send a new one.",
            field="email",
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        organization=org,
        email=email,
        role=role,
        department_id=department.id if department else None,
        token_hash=hash_token(token),
        invited_by=invited_by,
        created_at=now,
        expires_at=now + timedelta(days=current_app.config["INVITATION_DAYS"]),
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation, token


def invitation_mail_body(invitation: Invitation, link: str, inviter: str) -> str:
    """Text of the mail that invites someone to an organization."""
    role = Role(invitation.role)
    return (
        f"Hello,\n\n{inviter} invites you to join {invitation.organization.name} on EduCluster "
        f"as {ROLE_LABELS[role].lower()}.\n\nTo accept, open this link before "
        f"{invitation.expires_at:%d %b %Y}:\n{link}\n\n"
        "The link works once. If you did not expect this mail, you can ignore it."
    )


def find_invitation(token: str) -> Invitation | None:
    """Invitation matching a link token, if any."""
    if not token or len(token) > 200:
        return None
    return db.session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token)))


def invitation_problem(invitation: Invitation) -> str | None:
    """Why the invitation cannot be used any more, in the user's words (None when it can)."""
    return INVITATION_MESSAGES.get(invitation.status)


def accept_invitation(invitation: Invitation, user: User) -> Membership:
    """Mark the invitation used by ``user`` and give them the membership.

    The conditional UPDATE makes acceptance single-use even when two requests race.
    """
    if User.normalise_email(user.email) != invitation.email:
        raise DomainError(
            f"This invitation is for {invitation.email}. Log out and log in with that address."
        )
    problem = invitation_problem(invitation)
    if problem:
        raise Conflict(problem)
    now = utcnow()
    result = db.session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(accepted_at=now, accepted_user_id=user.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(INVITATION_MESSAGES["accepted"])
    db.session.refresh(invitation)
    return ensure_member(user, invitation.organization, invitation.role, invitation.department_id)


def register_invited_user(invitation: Invitation, name: str, password: str) -> User:
    """Create the account for an invitation's address and accept the invitation with it."""
    if find_user(invitation.email) is not None:
        raise Conflict(
            "An account with this email address already exists. Log in to accept the invitation.",
            field="email",
        )
    user = User(email=invitation.email, name=name.strip())
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    accept_invitation(invitation, user)
    return user


def revoke_invitation(invitation: Invitation) -> None:
    """Revoke a pending invitation so its link stops working."""
    if invitation.status != "pending":
        raise Conflict("Only pending invitations can be revoked.")
    invitation.revoked_at = utcnow()
    db.session.flush()


# --- self-registration -------------------------------------------------------------------------
def register_learner(
    name: str, email: str, password: str, organization: Organization | None
) -> User:
    """Open self-registration: a learner account, in ``organization`` when one was chosen."""
    email = User.normalise_email(email)
    if find_user(email) is not None:
        raise Conflict(
            "An account with this email address already exists. Log in, or reset your password.",
            field="email",
        )
    user = User(email=email, name=name.strip())
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    if organization is not None:
        ensure_member(user, organization, Role.LEARNER)
    return user
