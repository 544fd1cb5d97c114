"""Record learning events and compute completion at once, inside the request or task.

The rules themselves are pure functions in :mod:`lms.progress.rules`; this module loads the facts,
applies them, stores the result and sends the signals. Services flush and never commit.

A course completion, once reached, is never withdrawn by a later event, override or rule change:
it is a record (certificates and the ledger were issued on it). Re-certification resets it
explicitly, keeping a :class:`CompletionHistory` row.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from lms import signals
from lms.domain.models import Activity, Course, Enrolment
from lms.errors import DomainError
from lms.extensions import db
from lms.models import User
from lms.progress.assignments import refresh_assignments
from lms.progress.evaluation import (
    activity_columns,
    apply_outcome,
    apply_rule,
    course_rule,
    course_totals,
    evaluate,
    facts,
)
from lms.progress.models import (
    ActivityCompletion,
    CompletionState,
    CourseCompletion,
    LearningEvent,
)
from lms.timeutil import utcnow


def _app():
    return current_app._get_current_object()


def _course_rows(user_id: int, course_id: int) -> dict[int, ActivityCompletion]:
    """The learner's completion rows in a course, by activity (one query)."""
    return {
        r.activity_id: r
        for r in db.session.scalars(
            select(ActivityCompletion).where(
                ActivityCompletion.user_id == user_id, ActivityCompletion.course_id == course_id
            )
        )
    }


def _activity_completion(
    user_id: int, activity: Activity, rows: dict[int, ActivityCompletion] | None = None
) -> ActivityCompletion:
    """The learner's row for ``activity`` (created if missing); ``rows``: their rows in the
    course when the caller has them (the new row is added to it)."""
    if rows is not None:
        row = rows.get(activity.id)
    else:
        row = db.session.scalar(
            select(ActivityCompletion).where(
                ActivityCompletion.user_id == user_id,
                ActivityCompletion.activity_id == activity.id,
            )
        )
    if row is None:
        row = ActivityCompletion(
            user_id=user_id,
            activity_id=activity.id,
            course_id=activity.course_id,
            attempts=0,
            completed=False,
            failed=False,
            override_reason="",
        )
        db.session.add(row)
        if rows is not None:
            rows[activity.id] = row
    return row


def record_activity_event(
    user: User,
    activity: Activity,
    event: str,
    grade: float | None = None,
    details: dict[str, Any] | None = None,
    replace_grade: bool = False,
) -> ActivityCompletion:
    """Record ``event`` ("viewed", "submitted" or "graded" with ``grade`` 0..100) and recompute.

    Plugins call this after a learner views, submits or is graded; completion of the activity, of
    the course and of the learner's programs is updated in the same transaction. The best grade
    is kept, except with ``replace_grade`` (a person's regrade of the one piece of work, which
    may go down).
    """
    if grade is not None and not 0 <= grade <= 100:
        raise ValueError(f"grade {grade!r} is outside 0..100")
    now = utcnow()
    # The learner's rows of the whole course, read once: this one and the course recompute's.
    rows = _course_rows(user.id, activity.course_id)
    row = _activity_completion(user.id, activity, rows)
    if event == LearningEvent.VIEWED:
        row.viewed_at = row.viewed_at or now
    elif event in (LearningEvent.SUBMITTED, LearningEvent.GRADED):
        row.viewed_at = row.viewed_at or now
        row.submitted_at = now
        row.attempts = (row.attempts or 0) + 1
        if grade is not None and (replace_grade or row.grade is None or grade > row.grade):
            row.grade = grade
    else:
        raise ValueError(f"unknown learning event {event!r}")
    row.updated_at = now
    was_completed = bool(row.completed)
    if row.overridden_by_id is None:
        apply_rule(row, activity, now)
    db.session.flush()
    signals.activity_event.send(
        _app(), user=user, activity=activity, event=event, grade=grade, details=details or {}
    )
    if row.completed and not was_completed:
        signals.activity_completed.send(_app(), user=user, activity=activity, completion=row)
    update_course_completion(user.id, activity.course_id, rows)
    return row


def update_course_completion(
    user_id: int, course_id: int, rows: dict[int, ActivityCompletion] | None = None
) -> CourseCompletion:
    """Recompute one learner's course state from their activity completions, then their programs.

    ``rows``: the learner's completion rows in the course, when the caller has them loaded."""
    course = db.session.get(Course, course_id)
    activities = activity_columns(course_id)
    if rows is None:
        rows = _course_rows(user_id, course_id)
    # The gradebook's totals before a new course row exists: its queries would flush the row
    # first and the outcome then update it, two statements for one.
    totals = course_totals(course_id, [user_id])
    cc = db.session.scalar(
        select(CourseCompletion).where(
            CourseCompletion.user_id == user_id, CourseCompletion.course_id == course_id
        )
    )
    if cc is None:
        cc = CourseCompletion(
            user_id=user_id, course_id=course_id, state="not_started", progress=0.0
        )
        db.session.add(cc)
    outcome = evaluate(course_rule(course), facts(activities, rows), totals, user_id)
    now = utcnow()
    change = apply_outcome(cc, outcome, list(rows.values()), now)
    db.session.flush()
    if change:
        user = db.session.get(User, user_id)
        signal = (
            signals.course_completed
            if change == CompletionState.COMPLETED
            else signals.course_failed
        )
        signal.send(_app(), user=user, course=course, completion=cc)
    refresh_assignments(user_ids=[user_id], course_id=course_id)
    return cc


# --- manual override -------------------------------------------------------------------------
def override_activity_completion(
    learner: User, activity: Activity, completed: bool | None, by: User, reason: str
) -> ActivityCompletion:
    """A trainer marks ``activity`` completed (or not) for ``learner``, with the reason recorded.

    ``completed=None`` removes the override: the activity's rule applies again.
    """
    reason = (reason or "").strip()
    if completed is not None and not reason:
        raise DomainError("Give a reason for the override: it is recorded.", field="reason")
    if len(reason) > 500:
        raise DomainError("Keep the reason under 500 characters.", field="reason")
    enrolled = db.session.scalar(
        select(Enrolment.id).where(
            Enrolment.user_id == learner.id, Enrolment.course_id == activity.course_id
        )
    )
    if enrolled is None:
        raise DomainError("This person is not enrolled in the course.")
    now = utcnow()
    row = _activity_completion(learner.id, activity)
    was_completed = bool(row.completed)
    if completed is None:
        row.overridden_by_id = None
        row.override_reason = ""
        apply_rule(row, activity, now)
    else:
        row.overridden_by_id = by.id
        row.override_reason = reason
        row.completed = completed
        row.failed = False
        row.completed_at = (row.completed_at or now) if completed else None
    row.updated_at = now
    db.session.flush()
    if row.completed and not was_completed:
        signals.activity_completed.send(_app(), user=learner, activity=activity, completion=row)
    update_course_completion(learner.id, activity.course_id)
    return row
