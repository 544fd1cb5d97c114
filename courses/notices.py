"""In-app notices to the partner teams of a course (review requested, signed off, published)."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from lms.domain.models import Course
from lms.extensions import db
from lms.models import Membership, Role, User
from lms.progress.assignments import notify


def partner_staff(course: Course, org_ids: set[int] | None = None) -> list[User]:
    """Trainers and org admins of the course's partner organizations (one query)."""
    ids = org_ids if org_ids is not None else course.partner_org_ids
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.organization_id.in_(ids),
                Membership.role.in_([Role.TRAINER, Role.ORG_ADMIN]),
                User.active.is_(True),
            )
            .distinct()
            .order_by(User.id)
        )
    )


def notify_partners(
    course: Course, actor: User, kind: str, message: str, org_ids: set[int] | None = None
) -> int:
    """Tell every partner trainer and org admin (except ``actor``); returns how many."""
    link = url_for("courses.review", slug=course.slug)
    people = [u for u in partner_staff(course, org_ids) if u.id != actor.id]
    for person in people:
        notify(person, kind, message, link)
    return len(people)
