"""Which deadlines a person has, and their feed secret. Set-based: a constant number of
queries (courses, activities, one call per activity type, program assignments)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from flask import url_for
from sqlalchemy import select
from werkzeug.routing import BuildError

from lms.calendar.ical import Event
from lms.calendar.models import CalendarFeed
from lms.domain.models import (
    Activity,
    Course,
    CoursePartner,
    CourseStatus,
    Enrolment,
    EnrolmentStatus,
)
from lms.extensions import db
from lms.links import activity_url
from lms.models import Role, User
from lms.plugins import activity_registry
from lms.progress.models import AssignmentStatus, Program, ProgramAssignment
from lms.timeutil import utcnow
from lms.urls import absolute_url


def _course_ids(user: User) -> set[int]:
    """Courses the user learns in (active enrolments) or teaches (trainer of a partner)."""
    learning = set(
        db.session.scalars(
            select(Enrolment.course_id).where(
                Enrolment.user_id == user.id, Enrolment.status == EnrolmentStatus.ACTIVE
            )
        )
    )
    orgs = user.organization_ids(Role.TRAINER)
    teaching = set(
        db.session.scalars(
            select(CoursePartner.course_id)
            .join(Course, Course.id == CoursePartner.course_id)
            .where(CoursePartner.organization_id.in_(orgs), Course.status != CourseStatus.ARCHIVED)
        )
    ) if orgs else set()  # fmt: skip
    return learning | teaching


def _link(endpoint: str, external: bool, **values) -> str:
    # A feed is read by calendar apps: its links are absolute under SITE_URL, like mails.
    try:
        return absolute_url(endpoint, **values) if external else url_for(endpoint, **values)
    except BuildError:  # the endpoint is not installed: no link, the date still counts
        return ""


def events_for(user: User, start: datetime, end: datetime, external: bool = False) -> list[Event]:
    """Deadlines of ``user`` in [start, end), soonest first."""
    ids = _course_ids(user)
    events: list[Event] = []
    if ids:
        courses = {c.id: c for c in db.session.scalars(select(Course).where(Course.id.in_(ids)))}
        by_type: dict[str, list[Activity]] = {}
        for a in db.session.scalars(select(Activity).where(Activity.course_id.in_(ids))):
            by_type.setdefault(a.type, []).append(a)
        registry = activity_registry()
        titles = {a.id: a for acts in by_type.values() for a in acts}
        for key, acts in by_type.items():
            atype = registry.get(key)
            if atype is None:
                continue
            for due in atype.due_dates(acts, user.id):
                if not start <= due.at < end:
                    continue
                course = courses[titles[due.activity_id].course_id]
                events.append(Event(
                    uid=f"activity-{due.activity_id}-{due.kind}@educluster", at=due.at,
                    title=due.title, course=course.title, kind=due.kind,
                    url=activity_url(course, due.activity_id, external),
                ))  # fmt: skip
    rows = db.session.execute(
        select(ProgramAssignment.id, ProgramAssignment.due_at, Program.name)
        .join(Program, Program.id == ProgramAssignment.program_id)
        .where(
            ProgramAssignment.user_id == user.id,
            ProgramAssignment.status.in_([AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS]),
            ProgramAssignment.due_at >= start,
            ProgramAssignment.due_at < end,
        )
    )
    for pa_id, due_at, name in rows:
        events.append(Event(uid=f"program-{pa_id}@educluster", at=due_at, title=name,
                            course="Program", kind="program",
                            url=_link("progress.my_learning", external)))  # fmt: skip
    return sorted(events, key=lambda e: (e.at, e.title))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_feed_token(user: User) -> str:
    """A new secret for the user's feed; the previous URL stops working. Returns the secret,
    which is shown once (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    row = db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))
    if row is None:
        row = CalendarFeed(user_id=user.id)
        db.session.add(row)
    row.token_hash = _hash(token)
    row.created_at = utcnow()
    row.last_used_at = None
    db.session.flush()
    return token


def revoke_feed(user: User) -> bool:
    """The feed URL stops working; returns whether there was one."""
    row = db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    return True


def feed_of(user: User) -> CalendarFeed | None:
    """The user's feed (without its secret), if any."""
    return db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))


def user_for_token(token: str) -> User | None:
    """The active user whose feed secret is ``token`` (constant-time lookup by hash)."""
    if not token or len(token) > 100:
        return None
    row = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token)))
    if row is None:
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    row.last_used_at = utcnow()
    return user
