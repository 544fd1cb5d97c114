"""Shared course services that every area may call: content edits and enrolment.

They live in core because plugins (lesson, quiz, labs) and progress (program assignment) need
them and must not import the ``courses`` blueprint. Like every service they flush, never commit.
"""

from __future__ import annotations

from flask import current_app, g, has_request_context
from sqlalchemy import select

from lms import signals
from lms.domain.models import (
    Course,
    CourseStatus,
    Enrolment,
    EnrolmentStatus,
)
from lms.errors import DomainError
from lms.extensions import db
from lms.models import User
from lms.timeutil import utcnow

ENROLMENT_METHODS = ("self", "trainer", "program", "import", "lti")


def mark_course_edited(course: Course) -> int:
    """Record a content edit: bump ``course.content_version`` and withdraw current sign-offs.

    Call it from every path that changes what learners see (course fields, modules, activities,
    plugin authoring pages such as lesson bodies, question banks or lab tests). A partner's
    earlier approval no longer covers the new content, so it is marked withdrawn (history kept)
    and the partner must sign off again. Returns the new content version.
    """
    now = utcnow()
    course.content_version = (course.content_version or 1) + 1
    course.updated_at = now
    # Through the relationship (one small query), so pages rendered in the same request see it.
    for signoff in course.signoffs:
        if signoff.withdrawn_at is None:
            signoff.withdrawn_at = now
    db.session.flush()
    return course.content_version


def enrol_user(
    user: User, course: Course, method: str = "self", by: User | None = None
) -> Enrolment:
    """Enrol ``user`` in the published ``course`` (or reactivate a withdrawn enrolment).

    Idempotent: an active enrolment is returned unchanged (and no signal is sent). Permission
    checks belong to the caller (self-enrolment, a trainer, an HR program assignment). Sends
    ``lms.signals.enrolled`` after a new or reactivated enrolment.
    """
    if method not in ENROLMENT_METHODS:
        raise ValueError(f"unknown enrolment method {method!r}")
    if course.status != CourseStatus.PUBLISHED:
        raise DomainError(f"“{course.title}” is not published, so nobody can enrol in it yet.")
    enrolment = db.session.scalar(
        select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.course_id == course.id)
    )
    if enrolment is not None and enrolment.status == EnrolmentStatus.ACTIVE:
        return enrolment
    now = utcnow()
    if enrolment is None:
        enrolment = Enrolment(user_id=user.id, course_id=course.id)
        db.session.add(enrolment)
    enrolment.status = EnrolmentStatus.ACTIVE
    enrolment.method = method
    enrolment.enrolled_by_id = by.id if by is not None else None
    enrolment.enrolled_at = now
    enrolment.withdrawn_at = None
    db.session.flush()
    signals.enrolled.send(
        current_app._get_current_object(),
        user=user,
        course=course,
        enrolment=enrolment,
        method=method,
    )
    return enrolment


def active_enrolment(user_id: int, course_id: int) -> Enrolment | None:
    """The user's active enrolment in the course, if any.

    Within a request, an active enrolment found once (here or by the course outline, through
    :func:`remember_enrolment`) is not fetched again: the course page, the activity's plugin and
    its access check all ask. The row is the session's own object, so a withdrawal in the same
    request is seen (its status is checked); a missing one is always asked for again.
    """
    known = _known_enrolments().get((user_id, course_id))
    if known is not None and known.status == EnrolmentStatus.ACTIVE:
        return known
    enrolment = db.session.scalar(
        select(Enrolment).where(
            Enrolment.user_id == user_id,
            Enrolment.course_id == course_id,
            Enrolment.status == EnrolmentStatus.ACTIVE,
        )
    )
    remember_enrolment(enrolment)
    return enrolment


def remember_enrolment(enrolment: Enrolment | None) -> None:
    """Keep an active enrolment loaded by another query for :func:`active_enrolment`."""
    if enrolment is not None and has_request_context():
        _known_enrolments()[(enrolment.user_id, enrolment.course_id)] = enrolment


def _known_enrolments() -> dict[tuple[int, int], Enrolment]:
    if not has_request_context():
        return {}
    return g.setdefault("lms.active_enrolments", {})
