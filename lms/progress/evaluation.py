"""Applying the completion rules to stored facts: the one place that turns a learner's activity
rows into activity and course states (and their dates), shared by the live path
(:mod:`lms.progress.services`) and the recompute after a rule change (:mod:`lms.progress.recompute`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from lms.domain.models import Activity, Course
from lms.extensions import db
from lms.progress import rules
from lms.progress.models import ActivityCompletion, CompletionState, CourseCompletion


def apply_rule(row: ActivityCompletion, activity: Activity, now: datetime) -> None:
    """Set an activity completion row's state from its activity's completion rule."""
    outcome = rules.evaluate_activity(
        activity.completion_rule,
        activity.pass_mark,
        viewed=row.viewed_at is not None,
        submitted=row.submitted_at is not None,
        grade=row.grade,
    )
    row.completed_at = activity_completed_at(row, outcome.completed, now)
    row.completed = outcome.completed
    row.failed = outcome.failed


def acted_at(row: ActivityCompletion) -> datetime | None:
    """When the learner last did something an activity rule counts (a submission, else a view)."""
    return row.submitted_at or row.viewed_at


def activity_completed_at(
    row: ActivityCompletion, completed: bool, now: datetime
) -> datetime | None:
    """The completion date of ``row`` under :func:`rules.completion_date` (``None``: not done)."""
    if not completed:
        return None
    return rules.completion_date(row.completed_at, acted_at(row), now)


def course_acted_at(rows) -> datetime | None:
    """When the learner completed the last of the activities that make up the course outcome."""
    return max((r.completed_at for r in rows if r.completed and r.completed_at), default=None)


def facts(activities, rows: dict[int, Any]) -> list[rules.ActivityFacts]:
    """Per-activity completion facts for evaluating a course rule."""
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


def last_activity(rows) -> datetime | None:
    """When the learner last did something in the course (viewed or submitted)."""
    times = [t for r in rows for t in (r.viewed_at, r.submitted_at) if t is not None]
    return max(times) if times else None


def course_totals(course_id: int, user_ids: list[int] | None) -> dict[int, Any] | None:
    """Course totals from the gradebook when it is installed (``None``: compute them here)."""
    provider = current_app.extensions.get("lms.course_totals")
    return provider(course_id, user_ids) if provider is not None else None


def evaluate(rule, facts, totals: dict[int, Any] | None, user_id: int) -> rules.CourseOutcome:
    """Course outcome of a learner, with the gradebook grade when they have one."""
    if totals is None or user_id not in totals:  # e.g. a withdrawn learner: not in the gradebook
        return rules.evaluate_course(rule, facts)
    return rules.evaluate_course(rule, facts, course_grade=totals.get(user_id))


def course_rule(course: Course) -> rules.CourseRule:
    """Completion rule of a course: all, n of, and the minimum grade."""
    return rules.CourseRule(
        course.completion_mode or "all", course.completion_count, course.completion_min_grade
    )


def activity_columns(course_id: int):
    """Activity columns that completion needs for one course."""
    return db.session.execute(
        select(
            Activity.id,
            Activity.required,
            Activity.completion_rule,
            Activity.pass_mark,
            Activity.weight,
        ).where(Activity.course_id == course_id)
    ).all()


def apply_outcome(
    cc: CourseCompletion, outcome: rules.CourseOutcome, rows, now: datetime
) -> str | None:
    """Store ``outcome`` on ``cc``; return "completed"/"failed" when that state is newly reached.

    ``rows`` are the learner's activity completions in the course (for the last activity time
    and the completion date).
    """
    last = last_activity(rows)
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
        cc.completed_at = rules.completion_date(None, course_acted_at(rows), now)
        return CompletionState.COMPLETED
    cc.completed_at = None
    if outcome.state == CompletionState.FAILED and before != CompletionState.FAILED:
        return CompletionState.FAILED
    return None
