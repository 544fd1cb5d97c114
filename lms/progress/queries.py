"""Read-side helpers for completion state, used by course pages and reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    and_,
    case,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.sql import ColumnElement

from lms.domain.models import Course, CoursePartner, Enrolment, EnrolmentStatus
from lms.domain.services import remember_enrolment
from lms.extensions import db
from lms.progress.models import (
    ActivityCompletion,
    AssignmentStatus,
    CompletionState,
    CourseCompletion,
    Notification,
    ProgramAssignment,
)


def activity_states(user_id: int, course_id: int) -> dict[int, ActivityCompletion]:
    """The learner's completion rows in a course, by activity id (one query)."""
    rows = db.session.scalars(
        select(ActivityCompletion).where(
            ActivityCompletion.user_id == user_id, ActivityCompletion.course_id == course_id
        )
    )
    return {row.activity_id: row for row in rows}


def enrolment_and_state(user_id: int, course_id: int) -> tuple[bool, CourseCompletion | None]:
    """Whether the learner is actively enrolled, and their course completion row (one query)."""
    row = db.session.execute(
        select(Enrolment, CourseCompletion)
        .outerjoin(
            CourseCompletion,
            and_(
                CourseCompletion.user_id == Enrolment.user_id,
                CourseCompletion.course_id == Enrolment.course_id,
            ),
        )
        .where(
            Enrolment.user_id == user_id,
            Enrolment.course_id == course_id,
            Enrolment.status == EnrolmentStatus.ACTIVE,
        )
        .limit(1)
    ).first()
    if row is None:
        return False, None
    remember_enrolment(row[0])  # the activity's plugin asks again: no second query
    return True, row[1]


def enrolment_with_states(
    user_id: int, course_id: int
) -> tuple[bool, CourseCompletion | None, dict[int, ActivityCompletion]]:
    """``enrolment_and_state`` and ``activity_states`` in one query (the outline of every
    course page): one row per completion row of the learner, none when not enrolled."""
    rows = db.session.execute(
        select(Enrolment, CourseCompletion, ActivityCompletion)
        .outerjoin(
            CourseCompletion,
            and_(
                CourseCompletion.user_id == Enrolment.user_id,
                CourseCompletion.course_id == Enrolment.course_id,
            ),
        )
        .outerjoin(
            ActivityCompletion,
            and_(
                ActivityCompletion.user_id == Enrolment.user_id,
                ActivityCompletion.course_id == Enrolment.course_id,
            ),
        )
        .where(
            Enrolment.user_id == user_id,
            Enrolment.course_id == course_id,
            Enrolment.status == EnrolmentStatus.ACTIVE,
        )
    ).all()
    if not rows:
        return False, None, {}
    remember_enrolment(rows[0][0])  # the activity's plugin asks again: no second query
    states = {row[2].activity_id: row[2] for row in rows if row[2] is not None}
    return True, rows[0][1], states


def course_state(user_id: int, course_id: int) -> CourseCompletion | None:
    """Learner's completion row for one course, if any."""
    return db.session.scalar(
        select(CourseCompletion).where(
            CourseCompletion.user_id == user_id, CourseCompletion.course_id == course_id
        )
    )


# --- HR side: programs, assignments, employees -------------------------------------------------
DISPLAY_STATUSES = ("not_started", "in_progress", "completed", "overdue", "expired")


def assignment_status_expr(now: datetime) -> ColumnElement[str]:
    """The status people see, in SQL: "overdue" is derived from the due date."""
    a = ProgramAssignment
    return case(
        (
            and_(
                a.status.in_((AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS)),
                a.due_at < now,
            ),
            literal("overdue"),
        ),
        (a.status == AssignmentStatus.ASSIGNED, literal("not_started")),
        else_=a.status,
    )


def status_condition(status: str, now: datetime) -> ColumnElement[bool]:
    """``assignment_status_expr(now) == status`` written so indexes on status/due_at apply."""
    a = ProgramAssignment
    not_late = or_(a.due_at.is_(None), a.due_at >= now)
    if status == "overdue":
        return and_(
            a.status.in_((AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS)), a.due_at < now
        )
    if status == "not_started":
        return and_(a.status == AssignmentStatus.ASSIGNED, not_late)
    if status == "in_progress":
        return and_(a.status == AssignmentStatus.IN_PROGRESS, not_late)
    return a.status == status


def days_between(start, end) -> ColumnElement[float]:
    """Days from ``start`` to ``end`` (fractional), on SQLite and PostgreSQL."""
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 86400.0
    return func.julianday(end) - func.julianday(start)


def course_by_slug(slug: str) -> Course | None:
    """Course with this slug, if any."""
    return db.session.scalar(select(Course).where(Course.slug == slug))


def unread_notification_count(user_id: int) -> int:
    """Unread notifications of a user (the navigation badge)."""
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def unread_notification_subquery(user_id):
    """The unread count as a scalar subquery on ``user_id`` (a column or a value): the badge
    loaded with the session user (see ``lms.auth.sessions.register_session_figure``)."""
    return (
        select(func.count(Notification.id))
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .scalar_subquery()
    )


def notifications_of(user_id: int):
    """A user's notifications, newest first (a select to paginate)."""
    return (
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def authored_course_figures(org_ids: set[int], limit: int = 8) -> list:
    """Courses the organizations co-author, with active learners and completions (one query)."""
    authored = select(CoursePartner.course_id).where(CoursePartner.organization_id.in_(org_ids))
    done = func.sum(case((CourseCompletion.state == CompletionState.COMPLETED, 1), else_=0))
    return list(
        db.session.execute(
            select(Course, func.count(Enrolment.id), done)
            .outerjoin(
                Enrolment,
                (Enrolment.course_id == Course.id) & (Enrolment.status == EnrolmentStatus.ACTIVE),
            )
            .outerjoin(
                CourseCompletion,
                (CourseCompletion.course_id == Course.id)
                & (CourseCompletion.user_id == Enrolment.user_id),
            )
            .where(Course.id.in_(authored))
            .group_by(Course.id)
            .order_by(Course.title)
            .limit(limit)
        )
    )
