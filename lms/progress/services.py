"""Record learning events and compute completion at once, inside the request or task."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from lms.domain.models import Activity, CompletionRule
from lms.extensions import db
from lms.models import User
from lms.progress import signals
from lms.progress.models import ActivityCompletion, CourseCompletion
from lms.timeutil import utcnow


def _activity_completion(user_id: int, activity: Activity) -> ActivityCompletion:
    row = db.session.scalar(
        select(ActivityCompletion).where(
            ActivityCompletion.user_id == user_id, ActivityCompletion.activity_id == activity.id
        )
    )
    if row is None:
        row = ActivityCompletion(
            user_id=user_id, activity_id=activity.id, course_id=activity.course_id, attempts=0
        )
        db.session.add(row)
    return row


def record_activity_event(
    user: User, activity: Activity, event: str, grade: float | None = None
) -> ActivityCompletion:
    """Record ``event`` ("viewed", "submitted" or "graded" with ``grade`` 0..100) and recompute.

    Plugins call this after a learner views, submits or is graded; completion of the activity and
    of the course is updated in the same transaction.
    """
    now = utcnow()
    row = _activity_completion(user.id, activity)
    if event == "viewed":
        row.viewed_at = row.viewed_at or now
    elif event in ("submitted", "graded"):
        row.viewed_at = row.viewed_at or now
        row.submitted_at = now
        row.attempts = (row.attempts or 0) + 1
        if grade is not None and (row.grade is None or grade > row.grade):
            row.grade = grade
    else:
        raise ValueError(f"unknown learning event {event!r}")
    was_completed = row.completed
    if row.overridden_by_id is None:
        _apply_rule(row, activity, now)
    db.session.flush()
    app = current_app._get_current_object()
    signals.activity_event.send(app, user=user, activity=activity, event=event, grade=grade)
    if row.completed and not was_completed:
        signals.activity_completed.send(app, user=user, activity=activity, completion=row)
    update_course_completion(user.id, activity.course_id)
    return row


def _apply_rule(row: ActivityCompletion, activity: Activity, now) -> None:
    rule = activity.completion_rule
    done = False
    row.failed = False
    if rule == CompletionRule.VIEWED:
        done = row.viewed_at is not None
    elif rule == CompletionRule.SUBMITTED:
        done = row.submitted_at is not None
    elif rule == CompletionRule.PASSED:
        mark = activity.pass_mark if activity.pass_mark is not None else 50.0
        done = row.grade is not None and row.grade >= mark
        row.failed = row.grade is not None and not done
    if done and not row.completed:
        row.completed_at = now
    row.completed = done


def update_course_completion(user_id: int, course_id: int) -> CourseCompletion:
    """Recompute one learner's course state from their activity completions."""
    from lms.domain.models import Course

    course = db.session.get(Course, course_id)
    activities = db.session.scalars(select(Activity).where(Activity.course_id == course_id)).all()
    rows = {
        r.activity_id: r
        for r in db.session.scalars(
            select(ActivityCompletion).where(
                ActivityCompletion.user_id == user_id, ActivityCompletion.course_id == course_id
            )
        )
    }
    cc = db.session.scalar(
        select(CourseCompletion).where(
            CourseCompletion.user_id == user_id, CourseCompletion.course_id == course_id
        )
    )
    if cc is None:
        cc = CourseCompletion(user_id=user_id, course_id=course_id)
        db.session.add(cc)
    required = [a for a in activities if a.required and a.completion_rule != CompletionRule.NONE]
    done = [a for a in required if rows.get(a.id) and rows[a.id].completed]
    needed = len(required)
    if course.completion_mode == "n_of" and course.completion_count:
        needed = min(course.completion_count, len(required))
    cc.progress = round(100.0 * min(len(done), needed) / needed, 1) if needed else 0.0
    graded = [(a.weight or 0, rows[a.id].grade) for a in activities if a.id in rows]
    graded = [(w, g) for w, g in graded if g is not None and w > 0]
    cc.grade = (
        round(sum(w * g for w, g in graded) / sum(w for w, _ in graded), 1) if graded else None
    )
    complete = needed > 0 and len(done) >= needed
    if complete and course.completion_min_grade is not None:
        complete = cc.grade is not None and cc.grade >= course.completion_min_grade
    touched = [r.updated_at or r.viewed_at for r in rows.values() if r.viewed_at]
    cc.last_activity_at = max(touched) if touched else cc.last_activity_at
    newly_completed = complete and cc.state != "completed"
    if complete:
        if newly_completed:
            cc.completed_at = utcnow()
        cc.state = "completed"
    else:
        cc.completed_at = None
        cc.state = "in_progress" if rows else "not_started"
    db.session.flush()
    if newly_completed:
        user = db.session.get(User, user_id)
        signals.course_completed.send(
            current_app._get_current_object(), user=user, course=course, completion=cc
        )
    return cc
