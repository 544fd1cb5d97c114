"""Recompute completions automatically when an author changes completion rules.

Whatever path changes a rule (the authoring form, a course import, a script), the change is
noticed at flush time and the affected courses are recomputed just before the transaction
commits, in that same transaction: learners never see states computed with the old rules.
Set ``PROGRESS_AUTO_RECOMPUTE = False`` to leave it to ``flask progress recompute`` and the
"Recompute completion" button of the trainer report.
"""

from __future__ import annotations

from flask import current_app, has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from lms.domain.models import Activity, Course
from lms.progress.recompute import recompute_course

ACTIVITY_RULE_FIELDS = ("completion_rule", "pass_mark", "weight", "required")
COURSE_RULE_FIELDS = ("completion_mode", "completion_count", "completion_min_grade")
_KEY = "progress.recompute_courses"


def _changed(obj, fields: tuple[str, ...]) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in fields)


def changed_course_ids(session: Session) -> set[int]:
    """Courses whose completion rules change in this flush (edited or deleted activities)."""
    ids: set[int] = set()
    for obj in session.dirty:
        if isinstance(obj, Activity) and obj.course_id and _changed(obj, ACTIVITY_RULE_FIELDS):
            ids.add(obj.course_id)
        elif isinstance(obj, Course) and obj.id and _changed(obj, COURSE_RULE_FIELDS):
            ids.add(obj.id)
    for obj in session.deleted:
        if isinstance(obj, Activity) and obj.course_id:
            ids.add(obj.course_id)
    return ids


def _enabled() -> bool:
    return has_app_context() and current_app.config.get("PROGRESS_AUTO_RECOMPUTE", True)


@event.listens_for(Session, "before_flush")
def _collect(session: Session, _context, _instances) -> None:
    if not _enabled():
        return
    ids = changed_course_ids(session)
    if ids:
        session.info.setdefault(_KEY, set()).update(ids)


@event.listens_for(Session, "before_commit")
def _recompute(session: Session) -> None:
    if not _enabled():
        return
    session.flush()  # collect changes still pending
    ids = session.info.pop(_KEY, None)
    if not ids:
        return

    for course_id in sorted(ids):
        course = session.get(Course, course_id)
        if course is not None:
            recompute_course(course)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_KEY, None)
