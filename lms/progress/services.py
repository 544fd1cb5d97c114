"""Record learning events and compute completion at once, inside the request or task.

The rules themselves are pure functions in :mod:`lms.progress.rules`; this module loads the facts,
applies them, stores the result and sends the signals. Services flush and never commit.

A course completion, once reached, is never withdrawn by a later event, override or rule change:
it is a record (certificates and the ledger were issued on it). Re-certification resets it
explicitly, keeping a :class:`CompletionHistory` row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
    return _rows_of(course_id, [user_id])[user_id]


def _rows_of(course_id: int, user_ids) -> dict[int, dict[int, ActivityCompletion]]:
    """These learners' completion rows in a course: by learner, then by activity (one query)."""
    rows: dict[int, dict[int, ActivityCompletion]] = {user_id: {} for user_id in user_ids}
    for row in db.session.scalars(
        select(ActivityCompletion).where(
            ActivityCompletion.course_id == course_id, ActivityCompletion.user_id.in_(rows)
        )
    ):
        rows[row.user_id][row.activity_id] = row
    return rows


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


@dataclass(frozen=True)
class ActivityEvent:
    """One learning event to record: ``event`` is "viewed", "submitted" or "graded".

    ``grade`` is 0..100; the best grade is kept, except with ``replace_grade`` (a person's
    regrade of the one piece of work, which may go down).
    """

    user: User
    activity: Activity
    event: str
    grade: float | None = None
    details: dict[str, Any] | None = None
    replace_grade: bool = False

    def check(self) -> None:
        """Raise ValueError for an unknown event or a grade outside 0..100."""
        if self.grade is not None and not 0 <= self.grade <= 100:
            raise ValueError(f"grade {self.grade!r} is outside 0..100")
        if self.event not in (
            LearningEvent.VIEWED,
            LearningEvent.SUBMITTED,
            LearningEvent.GRADED,
        ):
            raise ValueError(f"unknown learning event {self.event!r}")


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
    occurred = ActivityEvent(user, activity, event, grade, details, replace_grade)
    return record_activity_events([occurred])[0]


def record_activity_events(events: Sequence[ActivityEvent]) -> list[ActivityCompletion]:
    """Record several learning events at once, as :func:`record_activity_event` does each.

    The same rows, outcomes and signals as recording them one by one in this order, in fewer
    statements: each course's rows, course totals, course completions and programs are read
    and written once for all its learners (a worker storing a batch of graded labs). The
    signals of every event come first, in order, then those of the courses' outcomes; the
    receivers share a ``memo`` for the batch (see :mod:`lms.signals`). Returns each event's
    activity completion row.
    """
    for occurred in events:
        occurred.check()
    now = utcnow()
    rows: dict[int, dict[int, dict[int, ActivityCompletion]]] = {}
    for course_id, user_ids in _learners_by_course(events).items():
        rows[course_id] = _rows_of(course_id, user_ids)
    results, completed = [], []
    for occurred in events:
        learner_rows = rows[occurred.activity.course_id][occurred.user.id]
        row = _activity_completion(occurred.user.id, occurred.activity, learner_rows)
        was_completed = bool(row.completed)
        _apply_event(row, occurred, now)
        results.append(row)
        completed.append(bool(row.completed) and not was_completed)
    db.session.flush()
    app, memo = _app(), {}  # see lms.signals: what the receivers keep for the whole batch
    for occurred, row, newly_completed in zip(events, results, completed, strict=True):
        signals.activity_event.send(
            app,
            user=occurred.user,
            activity=occurred.activity,
            event=occurred.event,
            grade=occurred.grade,
            details=occurred.details or {},
            memo=memo,
        )
        if newly_completed:
            signals.activity_completed.send(
                app, user=occurred.user, activity=occurred.activity, completion=row, memo=memo
            )
    for course_id, course_rows in rows.items():
        update_course_completions(course_id, course_rows)
    return results


def _learners_by_course(events: Sequence[ActivityEvent]) -> dict[int, list[int]]:
    """The learners of ``events`` per course, each once, in the order they first occur."""
    learners: dict[int, dict[int, None]] = {}
    for occurred in events:
        learners.setdefault(occurred.activity.course_id, {})[occurred.user.id] = None
    return {course_id: list(user_ids) for course_id, user_ids in learners.items()}


def _apply_event(row: ActivityCompletion, occurred: ActivityEvent, now) -> None:
    """Update the learner's row for one event, then apply the activity's completion rule."""
    row.viewed_at = row.viewed_at or now
    if occurred.event in (LearningEvent.SUBMITTED, LearningEvent.GRADED):
        row.submitted_at = now
        row.attempts = (row.attempts or 0) + 1
        grade = occurred.grade
        if grade is not None and (occurred.replace_grade or row.grade is None or grade > row.grade):
            row.grade = grade
    row.updated_at = now
    if row.overridden_by_id is None:
        apply_rule(row, occurred.activity, now)


def update_course_completion(
    user_id: int, course_id: int, rows: dict[int, ActivityCompletion] | None = None
) -> CourseCompletion:
    """Recompute one learner's course state from their activity completions, then their programs.

    ``rows``: the learner's completion rows in the course, when the caller has them loaded."""
    if rows is None:
        rows = _course_rows(user_id, course_id)
    return update_course_completions(course_id, {user_id: rows})[user_id]


def update_course_completions(
    course_id: int, rows: dict[int, dict[int, ActivityCompletion]]
) -> dict[int, CourseCompletion]:
    """Recompute the course state of these learners, then their programs, set-based.

    ``rows``: each learner's completion rows in the course, by activity (all of them: a learner
    with none has an empty dict). Returns each learner's course completion.
    """
    course = db.session.get(Course, course_id)
    activities = activity_columns(course_id)
    user_ids = list(rows)
    # The gradebook's totals before a new course row exists: its queries would flush the row
    # first and the outcome then update it, two statements for one.
    totals = course_totals(course_id, user_ids)
    ccs = _course_completions(course_id, user_ids)
    rule = course_rule(course)
    now = utcnow()
    changes = {}
    for user_id in user_ids:
        learner_rows = rows[user_id]
        outcome = evaluate(rule, facts(activities, learner_rows), totals, user_id)
        change = apply_outcome(ccs[user_id], outcome, list(learner_rows.values()), now)
        if change:
            changes[user_id] = change
    db.session.flush()
    if changes:
        for user_id, change in changes.items():
            signal = (
                signals.course_completed
                if change == CompletionState.COMPLETED
                else signals.course_failed
            )
            user = db.session.get(User, user_id)  # loaded already, as a rule: no query
            signal.send(_app(), user=user, course=course, completion=ccs[user_id])
    refresh_assignments(user_ids=user_ids, course_id=course_id)
    return ccs


def _course_completions(course_id: int, user_ids: list[int]) -> dict[int, CourseCompletion]:
    """These learners' course completion rows (one query), created where missing."""
    ccs = {
        cc.user_id: cc
        for cc in db.session.scalars(
            select(CourseCompletion).where(
                CourseCompletion.course_id == course_id, CourseCompletion.user_id.in_(user_ids)
            )
        )
    }
    for user_id in user_ids:
        if user_id not in ccs:
            ccs[user_id] = CourseCompletion(
                user_id=user_id, course_id=course_id, state="not_started", progress=0.0
            )
            db.session.add(ccs[user_id])
    return ccs


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
