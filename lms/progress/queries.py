"""Read-side helpers for completion state, used by course pages and reports."""

from __future__ import annotations

from sqlalchemy import select

from lms.extensions import db
from lms.progress.models import ActivityCompletion, CourseCompletion


def activity_states(user_id: int, course_id: int) -> dict[int, ActivityCompletion]:
    """The learner's completion rows in a course, by activity id (one query)."""
    rows = db.session.scalars(
        select(ActivityCompletion).where(
            ActivityCompletion.user_id == user_id, ActivityCompletion.course_id == course_id
        )
    )
    return {row.activity_id: row for row in rows}


def course_state(user_id: int, course_id: int) -> CourseCompletion | None:
    return db.session.scalar(
        select(CourseCompletion).where(
            CourseCompletion.user_id == user_id, CourseCompletion.course_id == course_id
        )
    )
