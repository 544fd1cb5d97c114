"""Enrolment flows of the course blueprint: self-enrolment, by a trainer, withdrawal."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from courses.services import check_enrolment_key
from lms.domain.models import (
    Course,
    CourseInvitation,
    CourseStatus,
    Enrolment,
    EnrolmentStatus,
    Visibility,
)
from lms.domain.services import active_enrolment, enrol_user
from lms.errors import DomainError, NotAllowed
from lms.extensions import db
from lms.mail import send_mail
from lms.models import Membership, Role, User
from lms.permissions import can
from lms.progress.assignments import notify
from lms.timeutil import utcnow
from lms.urls import absolute_url


def self_enrol(user: User, course: Course, key: str = "") -> Enrolment:
    """The learner enrols themselves; the enrolment key is checked when the course has one."""
    if not can(user, "course.enrol", course):
        raise NotAllowed("This course is not open to your organization.")
    if not check_enrolment_key(course, key):
        raise DomainError("That enrolment key is not right. Ask the course team for it.", "key")
    return enrol_user(user, course, method="self", by=None)


NOT_A_PARTNER_LEARNER = (
    "No learner of the partner organizations uses {email}. This course is open to partners "
    "only; people of other organizations join through their own organization."
)


def enrol_by_email(course: Course, email: str, by: User) -> Enrolment | None:
    """A trainer enrols a learner by email; returns the enrolment, or None when one is invited.

    A learner of a partner organization is enrolled at once. Anyone else needs their consent:
    on a course open to the whole cluster they are *invited* (enrolled when they accept); a
    partners-only course refuses them. The answer is the same whether or not the address has an
    account, so the form cannot be used to find out who is on the site.
    """
    if not can(by, "course.enrol_others", course):
        raise NotAllowed("You cannot enrol people in this course.")
    email = User.normalise_email(email)
    user = db.session.scalar(select(User).where(User.email == email, User.active.is_(True)))
    learner_orgs = user.organization_ids(Role.LEARNER) if user is not None else set()
    if learner_orgs & course.partner_org_ids:
        return enrol_user(user, course, method="trainer", by=by)
    if course.visibility != Visibility.CLUSTER:
        raise DomainError(NOT_A_PARTNER_LEARNER.format(email=email), "email")
    if course.status != CourseStatus.PUBLISHED:
        raise DomainError(f"“{course.title}” is not published, so nobody can enrol in it yet.")
    if learner_orgs:
        invite_to_course(user, course, by)
    return None


def invite_to_course(user: User, course: Course, by: User) -> CourseInvitation | None:
    """Invite ``user`` (idempotent); they are told in the app and by mail. None if enrolled."""
    if active_enrolment(user.id, course.id) is not None:
        return None
    invitation = db.session.scalar(
        select(CourseInvitation).where(
            CourseInvitation.user_id == user.id, CourseInvitation.course_id == course.id
        )
    )
    if invitation is not None:
        return invitation
    invitation = CourseInvitation(user_id=user.id, course_id=course.id, invited_by_id=by.id)
    db.session.add(invitation)
    db.session.flush()
    link = absolute_url("courses.overview", slug=course.slug)
    message = f"{by.name} invites you to the course “{course.title}”. Accept or decline it here."
    notify(user, "course_invitation", message, url_for("courses.overview", slug=course.slug))
    send_mail(
        user.email,
        f"Invitation to the course {course.title}",
        f"Hello {user.name},\n\n{by.name} invites you to the EduCluster course "
        f"“{course.title}”. You are enrolled only if you accept:\n{link}\n\n"
        "If you are not interested, decline it there or ignore this mail.",
    )
    return invitation


def pending_invitation(user: User, course: Course) -> CourseInvitation | None:
    """The user's open invitation to the course, if any."""
    return db.session.scalar(
        select(CourseInvitation).where(
            CourseInvitation.user_id == user.id, CourseInvitation.course_id == course.id
        )
    )


def respond_to_invitation(invitation: CourseInvitation, accept: bool) -> Enrolment | None:
    """Accept (enrol, as invited by the trainer) or decline; the invitation is used up."""
    enrolment = None
    if accept:
        enrolment = enrol_user(
            invitation.user, invitation.course, method="trainer", by=invitation.invited_by
        )
    db.session.delete(invitation)
    db.session.flush()
    return enrolment


def course_invitations(course_id: int) -> list[CourseInvitation]:
    """Open invitations of a course, oldest first (for the trainer's enrolment page)."""
    return list(
        db.session.scalars(
            select(CourseInvitation)
            .where(CourseInvitation.course_id == course_id)
            .options(selectinload(CourseInvitation.user))
            .order_by(CourseInvitation.created_at, CourseInvitation.id)
        )
    )


def withdraw(enrolment: Enrolment) -> None:
    """Unenrol: the row stays (history, progress); enrolling again reactivates it."""
    if enrolment.status != EnrolmentStatus.ACTIVE:
        raise DomainError("This enrolment is already withdrawn.")
    enrolment.status = EnrolmentStatus.WITHDRAWN
    enrolment.withdrawn_at = utcnow()
    db.session.flush()


def enrolment_query(course_id: int, status: str = "", q: str = "") -> Select:
    """Enrolments of a course, learners loaded, newest first; optionally by status or text."""
    stmt = (
        select(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .where(Enrolment.course_id == course_id)
        .options(
            selectinload(Enrolment.user)
            .selectinload(User.memberships)
            .selectinload(Membership.organization)
        )
        .order_by(Enrolment.status, Enrolment.enrolled_at.desc(), Enrolment.id.desc())
    )
    if status in (EnrolmentStatus.ACTIVE, EnrolmentStatus.WITHDRAWN):
        stmt = stmt.where(Enrolment.status == status)
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(User.name.ilike(like, escape="\\"), User.email.ilike(like, escape="\\"))
        )
    return stmt


def enrolment_counts(course_id: int) -> dict[str, int]:
    """Number of enrolments per status (one aggregate query)."""
    rows = db.session.execute(
        select(Enrolment.status, func.count(Enrolment.id))
        .where(Enrolment.course_id == course_id)
        .group_by(Enrolment.status)
    )
    return {status: count for status, count in rows}
