"""Enrolment flows of the course blueprint: self-enrolment, by a trainer, withdrawal."""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from courses.services import check_enrolment_key
from lms.domain.models import Course, Enrolment, EnrolmentStatus, Visibility
from lms.domain.services import enrol_user
from lms.errors import DomainError, NotAllowed
from lms.extensions import db
from lms.models import Membership, Role, User
from lms.permissions import can
from lms.timeutil import utcnow


def self_enrol(user: User, course: Course, key: str = "") -> Enrolment:
    """The learner enrols themselves; the enrolment key is checked when the course has one."""
    if not can(user, "course.enrol", course):
        raise NotAllowed("This course is not open to your organization.")
    if not check_enrolment_key(course, key):
        raise DomainError("That enrolment key is not right. Ask the course team for it.", "key")
    return enrol_user(user, course, method="self", by=None)


def enrol_by_email(course: Course, email: str, by: User) -> Enrolment:
    """A trainer enrols a learner: of a partner organization, or anyone for cluster courses."""
    if not can(by, "course.enrol_others", course):
        raise NotAllowed("You cannot enrol people in this course.")
    email = User.normalise_email(email)
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None or not user.active:
        raise DomainError(f"Nobody with the email address {email} has an account.", "email")
    learner_orgs = user.organization_ids(Role.LEARNER)
    if not learner_orgs:
        raise DomainError(f"{user.name} is not a learner in any organization.", "email")
    if course.visibility != Visibility.CLUSTER and not (learner_orgs & course.partner_org_ids):
        raise DomainError(
            f"{user.name} is not a learner of a partner organization, and the course is open "
            "to partners only.",
            "email",
        )
    return enrol_user(user, course, method="trainer", by=by)


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
