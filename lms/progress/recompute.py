"""Recompute a whole course after its completion rules changed: set-based, a constant number of
queries per course; recorded completion dates are kept (see :func:`lms.progress.rules.completion_date`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import insert, select, update

from lms import signals
from lms.domain.models import Course, Enrolment, EnrolmentStatus
from lms.extensions import db
from lms.models import User
from lms.progress import rules
from lms.progress.assignments import refresh_assignments
from lms.progress.evaluation import (
    activity_columns,
    activity_completed_at,
    apply_outcome,
    course_rule,
    course_totals,
    evaluate,
    facts,
)
from lms.progress.models import ActivityCompletion, CompletionState, CourseCompletion
from lms.timeutil import utcnow


def _app():
    return current_app._get_current_object()


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
    activities = activity_columns(course.id)
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
            completed_at = activity_completed_at(r, outcome.completed, now)
            updates.append(
                {"id": r.id, "completed": outcome.completed, "failed": outcome.failed,
                 "completed_at": completed_at}
            )  # fmt: skip
            r.completed, r.failed, r.completed_at = outcome.completed, outcome.failed, completed_at
    return rows_by_user, updates


def _recompute_course_states(course, activities, rows_by_user, existing, learners, now):
    """Apply the course rule to every learner: bulk INSERT and UPDATE parameters, transitions."""
    rule = course_rule(course)
    totals = course_totals(course.id, None)
    inserts, updates, transitions = [], [], []
    for user_id in learners:
        rows = rows_by_user.get(user_id, {})
        outcome = evaluate(rule, facts(activities, rows), totals, user_id)
        cc = existing.get(user_id)
        if cc is None:
            cc = CourseCompletion(
                user_id=user_id, course_id=course.id, state=CompletionState.NOT_STARTED
            )
            change = apply_outcome(cc, outcome, list(rows.values()), now)
            inserts.append({"user_id": user_id, "course_id": course.id, "updated_at": now,
                            **_course_columns(cc)})  # fmt: skip
        else:
            before = _course_columns(cc)
            change = apply_outcome(cc, outcome, list(rows.values()), now)
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
