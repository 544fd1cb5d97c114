"""The Certificate model: a snapshot of what was achieved, verifiable by its code."""

from __future__ import annotations

import enum
import json
import re
import secrets
from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.domain.models import Course
from lms.extensions import db
from lms.models import User
from lms.timeutil import utcnow

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols, no 0/O or 1/I look-alikes
_CODE_RE = re.compile(rf"^[{_ALPHABET}]{{16}}$")


def new_code() -> str:
    """An unguessable verification code: 16 symbols of 5 bits (80 bits), in groups of four."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalise_code(text: str | None) -> str | None:
    """The stored form of a typed code (case, spaces and dashes forgiven), or None if malformed."""
    if not text or len(text) > 64:
        return None
    raw = re.sub(r"[\s\-]", "", text).upper()
    if not _CODE_RE.match(raw):
        return None
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


class CertificateStatus(enum.StrEnum):
    """What a verifier is told about a certificate."""

    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"


class Certificate(db.Model):
    """A certificate of course or program completion. Never deleted; revoked with a reason."""

    __tablename__ = "certificates"
    __page_scope__ = "user"
    __table_args__ = (Index("ix_certificates_user_issued", "user_id", "issued_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # course | program
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="SET NULL"), index=True
    )
    program_id: Mapped[int | None] = mapped_column(
        ForeignKey("programs.id", ondelete="SET NULL"), index=True
    )
    # One certificate per completion cycle: "course:<id>:user:<id>:<completed_at>" etc.
    cycle_key: Mapped[str] = mapped_column(String(160), unique=True)
    # Snapshots: the certificate says what was true when it was issued.
    learner_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    partners_json: Mapped[str] = mapped_column(Text, default="[]")  # [{"id", "name"}]
    grade: Mapped[float | None] = mapped_column(Float)
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoke_reason: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    course: Mapped[Course | None] = relationship()
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    @property
    def partners(self) -> list[dict]:
        """Partner organizations recorded on the certificate at issue."""
        return json.loads(self.partners_json or "[]")

    @property
    def partner_names(self) -> list[str]:
        """Names of the partner organizations on the certificate."""
        return [p["name"] for p in self.partners]

    @property
    def issuer_org_ids(self) -> set[int]:
        """Organizations whose admins may revoke it: the course partners or the program's org."""
        return {p["id"] for p in self.partners}

    @property
    def learner_org_ids(self) -> set[int]:
        """The learner's organizations (their HR and org admins may see the certificate)."""
        return self.user.organization_ids() if self.user else set()

    def status_at(self, now: datetime) -> CertificateStatus:
        """Whether the certificate is valid, revoked or expired at ``now``."""
        if self.revoked_at is not None:
            return CertificateStatus.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return CertificateStatus.EXPIRED
        return CertificateStatus.VALID

    @property
    def status(self) -> CertificateStatus:
        """Whether the certificate is valid, revoked or expired now."""
        return self.status_at(utcnow())

    def __repr__(self) -> str:
        return f"<Certificate {self.code} {self.kind} {self.title!r}>"


class CertificatePdf(db.Model):
    """The PDF of a valid certificate, rendered once and then served as stored.

    A certificate never changes once issued (revocation and expiry are shown on the verify page
    and stamped on a PDF rendered on demand), so the stored file stays true.
    """

    __tablename__ = "certificate_pdfs"
    __page_scope__ = "none"

    certificate_id: Mapped[int] = mapped_column(
        ForeignKey("certificates.id", ondelete="CASCADE"), primary_key=True
    )
    body: Mapped[bytes] = mapped_column(LargeBinary)
    rendered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
