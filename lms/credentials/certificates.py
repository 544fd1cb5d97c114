"""Certificates: issued the moment a course or program is completed; revoked with a reason.

Issuing is idempotent per completion cycle (the ``cycle_key`` is unique): a completion signal
received twice, or a recompute that re-sends it, finds the existing certificate. Every issue and
revocation is entered in the ledger in the same transaction. Pages live in
:mod:`lms.credentials.views`, the PDF in :mod:`lms.credentials.pdf`, the Open
Badges credential in :mod:`lms.credentials.openbadges`.
"""

from __future__ import annotations

import calendar
import json
from datetime import datetime

from flask import Flask, url_for
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms import signals
from lms.credentials.ledger import append_entry
from lms.credentials.models import Certificate, new_code, normalise_code
from lms.domain.models import Course
from lms.errors import Conflict, DomainError
from lms.extensions import db
from lms.models import User
from lms.progress.assignments import notify
from lms.progress.models import CompletionState, CourseCompletion
from lms.timeutil import utcnow

MAX_REASON = 1000


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def add_months(value: datetime, months: int) -> datetime:
    """``value`` plus ``months`` calendar months (the 31st becomes the month's last day)."""
    month_index = value.month - 1 + months
    year, month = value.year + month_index // 12, month_index % 12 + 1
    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)


def _create(user: User, kind: str, cycle_key: str, **fields) -> Certificate:
    existing = db.session.scalar(select(Certificate).where(Certificate.cycle_key == cycle_key))
    if existing is not None:
        return existing
    cert = Certificate(
        code=new_code(), user_id=user.id, kind=kind, cycle_key=cycle_key, learner_name=user.name
    )
    for name, value in fields.items():
        setattr(cert, name, value)
    try:
        # A savepoint: a concurrent duplicate loses cleanly instead of aborting the request.
        with db.session.begin_nested():
            db.session.add(cert)
    except IntegrityError:
        return db.session.scalar(select(Certificate).where(Certificate.cycle_key == cycle_key))
    append_entry(
        "certificate_issued",
        {
            "code": cert.code,
            "kind": kind,
            "user_id": user.id,
            "course_id": cert.course_id,
            "program_id": cert.program_id,
            "title": cert.title,
            "grade": cert.grade,
            "issued_at": _iso(cert.issued_at),
            "expires_at": _iso(cert.expires_at),
        },
    )
    return cert


def issue_course_certificate(user: User, course: Course, completion) -> Certificate:
    """The certificate for ``user``'s completion of ``course`` (created once per completion)."""
    completed_at = completion.completed_at or utcnow()
    partners = [
        {"id": p.organization_id, "name": p.organization.name}
        for p in sorted(course.partners, key=lambda p: p.id)
    ]
    return _create(
        user,
        "course",
        f"course:{course.id}:user:{user.id}:{completed_at.isoformat(timespec='seconds')}",
        course_id=course.id,
        title=course.title,
        description=_plain_summary(course.summary),
        partners_json=json.dumps(partners),
        grade=completion.grade,
        issued_at=utcnow(),
    )


def _plain_summary(markdown_text: str, limit: int = 400) -> str:
    text = " ".join((markdown_text or "").replace("#", " ").replace("*", " ").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _program_grade(user_id: int, program) -> float | None:
    course_ids = [pc.course_id for pc in program.courses]
    if not course_ids:
        return None
    grade = db.session.scalar(
        select(func.avg(CourseCompletion.grade)).where(
            CourseCompletion.user_id == user_id,
            CourseCompletion.course_id.in_(course_ids),
            CourseCompletion.state == CompletionState.COMPLETED,
            CourseCompletion.grade.is_not(None),
        )
    )
    return round(float(grade), 1) if grade is not None else None


def issue_program_certificate(user: User, program, assignment) -> Certificate:
    """The certificate for one completed program assignment (one per assignment cycle)."""
    issued = utcnow()
    expires = getattr(assignment, "expires_at", None)
    if expires is None and getattr(program, "validity_months", None):
        expires = add_months(assignment.completed_at or issued, program.validity_months)
    partners = [{"id": program.organization_id, "name": program.organization.name}]
    return _create(
        user,
        "program",
        f"program:{program.id}:assignment:{assignment.id}:cycle:{getattr(assignment, 'cycle', 1)}",
        program_id=program.id,
        title=program.name,
        description=_plain_summary(getattr(program, "description", "") or ""),
        partners_json=json.dumps(partners),
        grade=_program_grade(user.id, program),
        issued_at=issued,
        expires_at=expires,
    )


def revoke_certificate(cert: Certificate, by: User, reason: str) -> Certificate:
    """Revoke ``cert`` for ``reason`` (required); refused if it is already revoked."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Enter the reason for revoking this certificate.", field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(f"Keep the reason under {MAX_REASON} characters.", field="reason")
    if cert.revoked_at is not None:
        raise Conflict("This certificate has already been revoked.")
    cert.revoked_at = utcnow()
    cert.revoked_by_id = by.id
    cert.revoke_reason = reason
    db.session.flush()
    append_entry(
        "certificate_revoked",
        {
            "code": cert.code,
            "user_id": cert.user_id,
            "revoked_by_id": by.id,
            "reason": reason,
            "revoked_at": _iso(cert.revoked_at),
        },
    )
    return cert


def find_certificate(code: str | None) -> Certificate | None:
    """The certificate with a typed or linked ``code``; None for unknown or malformed codes."""
    normal = normalise_code(code)
    if normal is None:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == normal))


def certificates_for_user(user_id: int) -> list[Certificate]:
    """A learner's certificates, newest first (one query)."""
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.user_id == user_id)
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )


def course_certificate_codes(user_id: int, course_ids: list[int]) -> dict[int, str]:
    """The latest valid certificate code per course for a learner (for My learning, one query)."""
    rows = db.session.execute(
        select(Certificate.course_id, Certificate.code)
        .where(
            Certificate.user_id == user_id,
            Certificate.course_id.in_(course_ids),
            Certificate.revoked_at.is_(None),
        )
        .order_by(Certificate.issued_at)
    )
    return {course_id: code for course_id, code in rows}


# --- signal handlers --------------------------------------------------------------------------
def _certificate_link(cert: Certificate) -> str:
    try:
        return url_for("certificates.show", code=cert.code)
    except RuntimeError:  # no request (a CLI recompute): the path is the same
        return f"/certificates/{cert.code}"


def _on_course_completed(sender, user, course, completion, **_) -> None:
    """Issue the certificate and tell the learner (once: a repeated signal finds it issued)."""
    before = db.session.scalar(
        select(func.count(Certificate.id)).where(Certificate.user_id == user.id)
    )
    cert = issue_course_certificate(user, course, completion)
    after = db.session.scalar(
        select(func.count(Certificate.id)).where(Certificate.user_id == user.id)
    )
    if after > before:
        notify(
            user,
            "certificate_issued",
            f"Well done: you completed “{course.title}”. Your certificate is ready.",
            _certificate_link(cert),
        )


def _on_program_completed(sender, user, program, assignment, **_) -> None:
    issue_program_certificate(user, program, assignment)


def init_app(app: Flask) -> None:
    """Issue a certificate whenever a course or a program is completed."""
    signals.course_completed.connect(_on_course_completed)
    signals.program_completed.connect(_on_program_completed)
