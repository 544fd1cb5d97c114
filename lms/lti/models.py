"""LTI 1.3 tables: registered platforms and deployments, the tool's signing keys, people linked
by (issuer, subject), platform course contexts and resource links, the roster (NRPS) and the
grade outbox (AGS)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models import Organization, User
from lms.timeutil import utcnow


class LtiRole(enum.StrEnum):
    """What a launch may make of a person, for one platform course (context)."""

    INSTRUCTOR = "instructor"
    LEARNER = "learner"
    NONE = "none"


class ScoreStatus(enum.StrEnum):
    """Delivery state of a score queued for an LTI platform's gradebook."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    SUPERSEDED = "superseded"  # a newer score for the same link and person replaced it


class LtiPlatform(db.Model):
    """A platform (Moodle, Canvas...) registered for one organization: its people land there."""

    __tablename__ = "lti_platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(500))
    auth_token_url: Mapped[str] = mapped_column(String(500))
    key_set_url: Mapped[str] = mapped_column(String(500))
    auth_audience: Mapped[str] = mapped_column(String(500), default="")
    registered_by: Mapped[str] = mapped_column(String(20), default="hand")  # or "dynamic"
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    organization: Mapped[Organization] = relationship()
    deployments: Mapped[list[LtiDeployment]] = relationship(
        back_populates="platform", cascade="all, delete-orphan", order_by="LtiDeployment.id"
    )

    @property
    def deployment_ids(self) -> list[str]:
        """Deployment ids known for this platform."""
        return [d.deployment_id for d in self.deployments]


class LtiDeployment(db.Model):
    """A deployment id under which a platform launches EduCluster."""

    __tablename__ = "lti_deployments"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))

    platform: Mapped[LtiPlatform] = relationship(back_populates="deployments")


class LtiRegistrationToken(db.Model):
    """A one-time LTI Dynamic Registration URL an admin gave a platform (only its hash kept)."""

    __tablename__ = "lti_registration_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    platform_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_platforms.id", ondelete="SET NULL")
    )


class LtiToolKey(db.Model):
    """An RSA key the tool signs with. The newest active key signs; retired keys stay in the
    JWKS until ``retire_after`` so messages signed just before a rotation still verify."""

    __tablename__ = "lti_tool_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime)
    retire_after: Mapped[datetime | None] = mapped_column(DateTime)


class LtiStoreEntry(db.Model):
    """Short-lived OIDC state and nonces (the library's launch data storage), shared by every
    web process; expired rows are purged as new ones are written."""

    __tablename__ = "lti_store"
    __page_scope__ = "none"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class LtiUsedNonce(db.Model):
    """Every nonce of an accepted launch: a replayed id_token finds its nonce here."""

    __tablename__ = "lti_used_nonces"
    __page_scope__ = "none"
    __table_args__ = (UniqueConstraint("issuer", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    nonce: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class LtiUserLink(db.Model):
    """A person of a platform, known by (issuer, subject), is this EduCluster account."""

    __tablename__ = "lti_user_links"
    __page_scope__ = "user"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_launch_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


class LtiContext(db.Model):
    """A course of the platform, as the launches and the roster describe it."""

    __tablename__ = "lti_contexts"
    __table_args__ = (UniqueConstraint("platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255), default="")
    memberships_url: Mapped[str] = mapped_column(String(500), default="")
    nrps_versions: Mapped[list[str]] = mapped_column(JSON, default=list)
    ags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the last AGS claim seen
    roster_synced_at: Mapped[datetime | None] = mapped_column(DateTime)

    platform: Mapped[LtiPlatform] = relationship()


class LtiContextRole(db.Model):
    """What a person is in a platform course, from launches and the roster."""

    __tablename__ = "lti_context_roles"
    __page_scope__ = "user"
    __table_args__ = (UniqueConstraint("context_pk", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("lti_contexts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(20), default="launch")  # or "roster"

    context: Mapped[LtiContext] = relationship()
    user: Mapped[User] = relationship()


class LtiResourceLink(db.Model):
    """A placement of an EduCluster course or activity in a platform course."""

    __tablename__ = "lti_resource_links"
    __table_args__ = (
        UniqueConstraint("platform_id", "resource_link_id"),
        Index("ix_lti_resource_links_activity", "activity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    context_pk: Mapped[int | None] = mapped_column(
        ForeignKey("lti_contexts.id", ondelete="CASCADE")
    )
    resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255), default="")
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    lineitem_url: Mapped[str] = mapped_column(String(500), default="")
    ags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    platform: Mapped[LtiPlatform] = relationship()
    context: Mapped[LtiContext | None] = relationship()


class LtiScore(db.Model):
    """The grade outbox: a score to post to a platform's gradebook (AGS).

    Rows are written in the transaction that recorded the grade, claimed with an atomic UPDATE
    by one sender at a time, and marked sent only after the platform accepted them; while the
    platform is down they wait with a backoff. Each keeps the timestamp it was created with,
    which AGS platforms use to ignore a repeat, and an older unsent score is superseded by a
    newer one for the same link and person rather than sent after it.
    """

    __tablename__ = "lti_scores"
    __page_scope__ = "user"
    __table_args__ = (Index("ix_lti_scores_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("lti_resource_links.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    score: Mapped[float] = mapped_column(Float)  # 0..100
    activity_progress: Mapped[str] = mapped_column(String(20), default="Completed")
    grading_progress: Mapped[str] = mapped_column(String(20), default="FullyGraded")
    timestamp: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default=ScoreStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)

    link: Mapped[LtiResourceLink] = relationship()
