"""Core models: organizations, people, memberships, departments, invitations and site state."""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.passwords import hash_password, verify_password
from lms.timeutil import utcnow


class OrgKind(enum.StrEnum):
    """Kind of member organization of the cluster."""

    UNIVERSITY = "university"
    ENTERPRISE = "enterprise"
    RESEARCH = "research"
    GOVERNMENT = "government"


ORG_KIND_LABELS = {
    OrgKind.UNIVERSITY: "University",
    OrgKind.ENTERPRISE: "Enterprise",
    OrgKind.RESEARCH: "Research centre",
    OrgKind.GOVERNMENT: "Government agency",
}


class Role(enum.StrEnum):
    """Role a person holds in an organization."""

    LEARNER = "learner"
    TRAINER = "trainer"
    HR = "hr"
    ORG_ADMIN = "org_admin"


ROLE_LABELS = {
    Role.LEARNER: "Learner",
    Role.TRAINER: "Trainer",
    Role.HR: "HR manager",
    Role.ORG_ADMIN: "Organization admin",
}


class Organization(db.Model):
    """A member organization of the cluster: university, enterprise or research centre."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    departments: Mapped[list[Department]] = relationship(
        back_populates="organization", order_by="Department.name"
    )
    memberships: Mapped[list[Membership]] = relationship(back_populates="organization")

    @property
    def kind_label(self) -> str:
        """Human label of the organization's kind."""
        return ORG_KIND_LABELS.get(OrgKind(self.kind), self.kind)

    def __repr__(self) -> str:
        return f"<Organization {self.slug}>"


class User(UserMixin, db.Model):
    """A person with an account on the platform."""

    __tablename__ = "users"
    __page_scope__ = "user"
    __page_owner__ = "id"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased: uniqueness is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_site_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @staticmethod
    def normalise_email(email: str) -> str:
        """Email trimmed and lower-cased as stored."""
        return (email or "").strip().lower()

    def set_password(self, password: str) -> None:
        """Store the Argon2id hash of a new password (see lms.passwords)."""
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        """Whether the password matches the stored hash."""
        return verify_password(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        """Whether the account may sign in (not suspended)."""
        return self.active

    @property
    def credentials_fingerprint(self) -> str:
        """Changes whenever the password does: ends old sessions and old reset links."""
        return hashlib.sha256((self.password_hash or "").encode()).hexdigest()[:16]

    # The server-side login session this object was loaded under (set by lms.auth.sessions);
    # not a column: one account has one row per browser where it is logged in.
    session_key = ""

    def get_id(self) -> str:
        """Session id that stops working when credentials or the session key change."""
        # The session (and remember-me cookie) name the password too, so changing or resetting
        # a password logs out every other browser where the account was open; and they name a
        # server-side login session, so logging out ends every copy of the cookies.
        return f"{self.id}:{self.credentials_fingerprint}:{self.session_key}"

    def roles_in(self, organization_id: int) -> set[str]:
        """Roles the user holds in one organization."""
        return {m.role for m in self.memberships if m.organization_id == organization_id}

    def has_role(self, *roles: str) -> bool:
        """Whether the user holds any of these roles in any organization."""
        return any(m.role in roles for m in self.memberships)

    def organization_ids(self, *roles: str) -> set[int]:
        """Organizations where the user holds any of these roles (any role if none given)."""
        return {m.organization_id for m in self.memberships if not roles or m.role in roles}

    @property
    def primary_organization(self) -> Organization | None:
        """The user's first organization, if any."""
        return self.memberships[0].organization if self.memberships else None

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class Department(db.Model):
    """A department of an organization that employees belong to."""

    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))

    organization: Mapped[Organization] = relationship(back_populates="departments")


class Membership(db.Model):
    """A user's role in an organization; a user may hold several roles and organizations."""

    __tablename__ = "memberships"
    __page_scope__ = "user"
    __table_args__ = (
        UniqueConstraint("user_id", "organization_id", "role"),
        Index("ix_memberships_org_role", "organization_id", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    # Employees belong to one department of their organization (set on the learner membership).
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    organization: Mapped[Organization] = relationship(back_populates="memberships")
    department: Mapped[Department | None] = relationship()

    @property
    def role_label(self) -> str:
        """Human label of the membership's role."""
        return ROLE_LABELS.get(Role(self.role), self.role)


class Invitation(db.Model):
    """A single-use, expiring invitation to join an organization with a role."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL")
    )
    # Only a hash is stored: a leaked database does not leak usable invitation links.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime)
    accepted_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    organization: Mapped[Organization] = relationship()
    department: Mapped[Department | None] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    @property
    def status(self) -> str:
        """Pending, accepted, revoked or expired."""
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at < utcnow():
            return "expired"
        return "pending"


class LoginThrottle(db.Model):
    """Failed-login counters per account and per client address."""

    __tablename__ = "login_throttles"
    __page_scope__ = "none"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    lockouts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class LoginSession(db.Model):
    """One browser's login, so that logging out ends it on the server (cookies copied or not)."""

    __tablename__ = "login_sessions"
    __page_scope__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)


class OutboundMail(db.Model):
    """Every mail the site sends; the default backend only records it here (the outbox)."""

    __tablename__ = "outbound_mails"
    __page_scope__ = "none"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    error: Mapped[str] = mapped_column(Text, default="")


class SiteSetting(db.Model):
    """One site-wide setting stored as a key and text value."""

    __tablename__ = "site_settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
