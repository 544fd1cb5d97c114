"""Record learning events and compute completion at once, inside the request or task.

The rules themselves are pure functions in :mod:`lms.progress.rules`; this module loads the facts,
applies them, stores the result and sends the signals. Services flush and never commit.

A course completion, once reached, is never withdrawn by a later event, override or rule change:
it is a record (certificates and the ledger were issued on it). Re-certification resets it
explicitly, keeping a :class:`CompletionHistory` row.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import insert, select, update

from lms import signals
from lms.domain.models import Activity, Course, Enrolment, EnrolmentStatus
from lms.errors import DomainError
from lms.extensions import db
from lms.models import User
from lms.progress import rules
from lms.progress.assignments import refresh_assignments
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
        _apply_rule(row, activity, now)
    db.session.flush()
    signals.activity_event.send(
        _app(), user=user, activity=activity, event=event, grade=grade, details=details or {}
    )
    if row.completed and not was_completed:
        signals.activity_completed.send(_app(), user=user, activity=activity, completion=row)
    update_course_completion(user.id, activity.course_id, rows)
    return row


def _apply_rule(row: ActivityCompletion, activity: Activity, now: datetime) -> None:
    outcome = rules.evaluate_activity(
        activity.completion_rule,
        activity.pass_mark,
        viewed=row.viewed_at is not None,
        submitted=row.submitted_at is not None,
        grade=row.grade,
    )
    row.completed_at = _activity_completed_at(row, outcome.completed, now)
    row.completed = outcome.completed
    row.failed = outcome.failed


def _acted_at(row: ActivityCompletion) -> datetime | None:
    """When the learner last did something an activity rule counts (a submission, else a view)."""
    return row.submitted_at or row.viewed_at


def _activity_completed_at(
    row: ActivityCompletion, completed: bool, now: datetime
) -> datetime | None:
    """The completion date of ``row`` under :func:`rules.completion_date` (``None``: not done)."""
    if not completed:
        return None
    return rules.completion_date(row.completed_at, _acted_at(row), now)


def _course_acted_at(rows) -> datetime | None:
    """When the learner completed the last of the activities that make up the course outcome."""
    return max((r.completed_at for r in rows if r.completed and r.completed_at), default=None)


def _facts(activities, rows: dict[int, Any]) -> list[rules.ActivityFacts]:
    facts = []
    for a in activities:
        r = rows.get(a.id)
        facts.append(
            rules.ActivityFacts(
                required=bool(a.required),
                rule=a.completion_rule,
                weight=a.weight if a.weight is not None else 1.0,
                completed=bool(r and r.completed),
                failed=bool(r and r.failed),
                touched=bool(
                    r and (r.viewed_at or r.submitted_at or r.overridden_by_id or r.completed)
                ),
                grade=r.grade if r else None,
            )
        )
    return facts


def _last_activity(rows) -> datetime | None:
    """When the learner last did something in the course (viewed or submitted)."""
    times = [t for r in rows for t in (r.viewed_at, r.submitted_at) if t is not None]
    return max(times) if times else None


def _course_totals(course_id: int, user_ids: list[int] | None) -> dict[int, Any] | None:
    """Course totals from the gradebook when it is installed (``None``: compute them here)."""
    provider = current_app.extensions.get("lms.course_totals")
    return provider(course_id, user_ids) if provider is not None else None


def _evaluate(rule, facts, totals: dict[int, Any] | None, user_id: int) -> rules.CourseOutcome:
    if totals is None or user_id not in totals:  # e.g. a withdrawn learner: not in the gradebook
        return rules.evaluate_course(rule, facts)
    return rules.evaluate_course(rule, facts, course_grade=totals.get(user_id))


def _course_rule(course: Course) -> rules.CourseRule:
    return rules.CourseRule(
        course.completion_mode or "all", course.completion_count, course.completion_min_grade
    )


def _activity_columns(course_id: int):
    return db.session.execute(
        select(
            Activity.id,
            Activity.required,
            Activity.completion_rule,
            Activity.pass_mark,
            Activity.weight,
        ).where(Activity.course_id == course_id)
    ).all()


def _apply_outcome(
    cc: CourseCompletion, outcome: rules.CourseOutcome, rows, now: datetime
) -> str | None:
    """Store ``outcome`` on ``cc``; return "completed"/"failed" when that state is newly reached.

    ``rows`` are the learner's activity completions in the course (for the last activity time
    and the completion date).
    """
    last = _last_activity(rows)
    before = cc.state
    if before == CompletionState.COMPLETED:
        # Sticky: a completion is a record. Keep date and state, refresh nothing that would lie.
        cc.last_activity_at = max(filter(None, [cc.last_activity_at, last]), default=None)
        return None
    cc.progress = outcome.progress
    cc.grade = outcome.grade
    cc.last_activity_at = max(filter(None, [cc.last_activity_at, last]), default=None)
    cc.state = outcome.state
    if outcome.state == CompletionState.COMPLETED:
        cc.completed_at = rules.completion_date(None, _course_acted_at(rows), now)
        return CompletionState.COMPLETED
    cc.completed_at = None
    if outcome.state == CompletionState.FAILED and before != CompletionState.FAILED:
        return CompletionState.FAILED
    return None


def update_course_completion(
    user_id: int, course_id: int, rows: dict[int, ActivityCompletion] | None = None
) -> CourseCompletion:
    """Recompute one learner's course state from their activity completions, then their programs.

    ``rows``: the learner's completion rows in the course, when the caller has them loaded."""
    course = db.session.get(Course, course_id)
    activities = _activity_columns(course_id)
    if rows is None:
        rows = _course_rows(user_id, course_id)
    # The gradebook's totals before a new course row exists: its queries would flush the row
    # first and the outcome then update it, two statements for one.
    totals = _course_totals(course_id, [user_id])
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
    outcome = _evaluate(_course_rule(course), _facts(activities, rows), totals, user_id)
    now = utcnow()
    change = _apply_outcome(cc, outcome, list(rows.values()), now)
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
        _apply_rule(row, activity, now)
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


# --- recompute after a rule change ------------------------------------------------------------
def recompute_course(course: Course) -> dict[str, int]:
    """Re-apply the activity and course rules of ``course`` to every learner, set-based.

    A constant number of queries per course: activities, completion rows, course completions and
    enrolments are read once; changed rows are written with bulk UPDATE/INSERT statements. Call
    it after an author changes completion rules; the caller commits once.
    """
    db.session.flush()
    with db.session.no_autoflush:
        return _recompute_course(course)


def _recompute_course(course: Course) -> dict[str, int]:
    now = utcnow()
    activities = _activity_columns(course.id)
    rows_by_user, activity_updates = _recompute_activities(course.id, activities, now)
    enrolled = set(
        db.session.scalars(
            select(Enrolment.user_id).where(
                Enrolment.course_id == course.id, Enrolment.status == EnrolmentStatus.ACTIVE
            )
        )
    )
    existing = {
        cc.user_id: cc
        for cc in db.session.scalars(
            select(CourseCompletion).where(CourseCompletion.course_id == course.id)
        )
    }
    learners = enrolled | set(rows_by_user) | set(existing)
    inserts, updates, transitions = _recompute_course_states(
        course, activities, rows_by_user, existing, learners, now
    )
    # The objects above were changed in memory to compute; write with bulk statements instead.
    for obj in list(existing.values()) + [r for rs in rows_by_user.values() for r in rs.values()]:
        db.session.expire(obj)
    if activity_updates:
        db.session.execute(update(ActivityCompletion), activity_updates)
    if updates:
        db.session.execute(update(CourseCompletion), updates)
    if inserts:
        db.session.execute(insert(CourseCompletion), inserts)
    db.session.flush()
    _announce_transitions(course, transitions)
    refresh_assignments(course_id=course.id)
    return {
        "learners": len(learners),
        "activities_changed": len(activity_updates),
        "courses_changed": len(updates) + len(inserts),
        "completed": sum(1 for _, c in transitions if c == CompletionState.COMPLETED),
        "failed": sum(1 for _, c in transitions if c == CompletionState.FAILED),
    }


def _recompute_activities(course_id: int, activities, now: datetime):
    """Re-apply each activity's rule to every completion row of the course (overrides stand).

    Returns the rows by learner and activity (changed in memory) and the bulk UPDATE parameters.
    """
    by_id = {a.id: a for a in activities}
    rows_by_user: dict[int, dict[int, ActivityCompletion]] = defaultdict(dict)
    updates = []
    for r in db.session.scalars(
        select(ActivityCompletion).where(ActivityCompletion.course_id == course_id)
    ):
        rows_by_user[r.user_id][r.activity_id] = r
        a = by_id.get(r.activity_id)
        if a is None or r.overridden_by_id is not None:
            continue
        outcome = rules.evaluate_activity(
            a.completion_rule, a.pass_mark, r.viewed_at is not None, r.submitted_at is not None,
            r.grade,
        )  # fmt: skip
        if (outcome.completed, outcome.failed) != (bool(r.completed), bool(r.failed)):
            completed_at = _activity_completed_at(r, outcome.completed, now)
            updates.append(
                {"id": r.id, "completed": outcome.completed, "failed": outcome.failed,
                 "completed_at": completed_at}
            )  # fmt: skip
            r.completed, r.failed, r.completed_at = outcome.completed, outcome.failed, completed_at
    return rows_by_user, updates


def _recompute_course_states(course, activities, rows_by_user, existing, learners, now):
    """Apply the course rule to every learner: bulk INSERT and UPDATE parameters, transitions."""
    rule = _course_rule(course)
    totals = _course_totals(course.id, None)
    inserts, updates, transitions = [], [], []
    for user_id in learners:
        rows = rows_by_user.get(user_id, {})
        outcome = _evaluate(rule, _facts(activities, rows), totals, user_id)
        cc = existing.get(user_id)
        if cc is None:
            cc = CourseCompletion(
                user_id=user_id, course_id=course.id, state=CompletionState.NOT_STARTED
            )
            change = _apply_outcome(cc, outcome, list(rows.values()), now)
            inserts.append({"user_id": user_id, "course_id": course.id, "updated_at": now,
                            **_course_columns(cc)})  # fmt: skip
        else:
            before = _course_columns(cc)
            change = _apply_outcome(cc, outcome, list(rows.values()), now)
            if _course_columns(cc) != before:
                updates.append({"id": cc.id, "updated_at": now, **_course_columns(cc)})
        if change:
            transitions.append((user_id, change))
    return inserts, updates, transitions


def _course_columns(cc: CourseCompletion) -> dict[str, Any]:
    """The columns of a course completion that a recompute may change."""
    return {
        "state": cc.state,
        "progress": cc.progress or 0.0,
        "grade": cc.grade,
        "completed_at": cc.completed_at,
        "last_activity_at": cc.last_activity_at,
    }


def _announce_transitions(course: Course, transitions: list[tuple[int, str]]) -> None:
    """Send course_completed / course_failed for the learners whose state newly changed."""
    if not transitions:
        return
    users = {
        u.id: u
        for u in db.session.scalars(select(User).where(User.id.in_([t[0] for t in transitions])))
    }
    completions = {
        cc.user_id: cc
        for cc in db.session.scalars(
            select(CourseCompletion).where(
                CourseCompletion.course_id == course.id, CourseCompletion.user_id.in_(list(users))
            )
        )
    }
    for user_id, change in transitions:
        signal = (
            signals.course_completed
            if change == CompletionState.COMPLETED
            else signals.course_failed
        )
        signal.send(_app(), user=users[user_id], course=course, completion=completions[user_id])
