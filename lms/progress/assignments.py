"""Progress of program assignments, recomputed set-based when course completions change, and
the in-app notifications that go with them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from flask import current_app
from sqlalchemy import select, update

from lms import signals
from lms.extensions import db
from lms.models import User
from lms.progress import rules
from lms.progress.models import (
    AssignmentStatus,
    CompletionState,
    CourseCompletion,
    Notification,
    Program,
    ProgramAssignment,
    ProgramCourse,
)
from lms.timeutil import utcnow
from lms.urls import absolute_url

OPEN_STATUSES = (AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS)


def learning_link() -> str:
    """The full address of My learning (``SITE_URL``), for mails sent by requests and by cron."""
    return absolute_url("progress.my_learning")


def notify(user: User, kind: str, message: str, link: str = "") -> Notification:
    """An in-app notification for ``user``."""
    note = Notification(user_id=user.id, kind=kind, message=message, link=link)
    db.session.add(note)
    db.session.flush()
    return note


# --- progress of assignments -------------------------------------------------------------------
def refresh_assignments(
    user_ids: Sequence[int] | None = None,
    course_id: int | None = None,
    program_id: int | None = None,
) -> int:
    """Recompute progress and status of open assignments (set-based: two queries + bulk update).

    Narrowed to ``user_ids``, to programs containing ``course_id`` and/or to ``program_id``.
    Newly completed assignments get ``completed_at``, ``expires_at`` (validity) and send
    ``signals.program_completed``. Returns the number of assignments completed now.
    """
    grouped: dict[int, list] = defaultdict(list)
    for row in db.session.execute(_open_assignment_rows(user_ids, course_id, program_id)):
        grouped[row.id].append(row)
    now = utcnow()
    updates, completed = [], []
    for assignment_id, rows in grouped.items():
        values = _assignment_values(assignment_id, rows, now)
        if values is None:
            continue
        updates.append(values)
        if values["status"] == AssignmentStatus.COMPLETED:
            completed.append(assignment_id)
    if updates:
        db.session.execute(update(ProgramAssignment), updates)
        changed = {values["id"] for values in updates}
        for obj in list(db.session.identity_map.values()):  # keep loaded objects in step
            if isinstance(obj, ProgramAssignment) and obj.id in changed:
                db.session.expire(obj)
    db.session.flush()
    if completed:
        _announce_completions(completed)
    return len(completed)


def _open_assignment_rows(
    user_ids: Sequence[int] | None, course_id: int | None, program_id: int | None
):
    """One row per (open assignment, program course) with the learner's state in that course."""
    stmt = (
        select(
            ProgramAssignment.id,
            ProgramAssignment.user_id,
            ProgramAssignment.status,
            ProgramAssignment.progress,
            ProgramAssignment.courses_completed,
            ProgramAssignment.last_activity_at,
            Program.completion_mode,
            Program.completion_count,
            Program.validity_months,
            ProgramCourse.course_id,
            CourseCompletion.state,
            CourseCompletion.progress.label("course_progress"),
            CourseCompletion.last_activity_at.label("course_last"),
        )
        .join(Program, Program.id == ProgramAssignment.program_id)
        .join(ProgramCourse, ProgramCourse.program_id == Program.id)
        .outerjoin(
            CourseCompletion,
            (CourseCompletion.course_id == ProgramCourse.course_id)
            & (CourseCompletion.user_id == ProgramAssignment.user_id),
        )
        .where(ProgramAssignment.status.in_(OPEN_STATUSES))
    )
    if user_ids is not None:
        stmt = stmt.where(ProgramAssignment.user_id.in_(list(user_ids)))
    if program_id is not None:
        stmt = stmt.where(ProgramAssignment.program_id == program_id)
    if course_id is not None:
        with_course = select(ProgramCourse.program_id).where(ProgramCourse.course_id == course_id)
        stmt = stmt.where(ProgramAssignment.program_id.in_(with_course))
    return stmt


def _assignment_values(assignment_id: int, rows: list, now) -> dict | None:
    """The assignment's new progress, counts and status (``None`` when nothing changed)."""
    first = rows[0]
    done = sum(1 for r in rows if r.state == CompletionState.COMPLETED)
    progress, complete = rules.program_progress(
        [
            100.0 if r.state == CompletionState.COMPLETED else (r.course_progress or 0.0)
            for r in rows
        ],
        done,
        first.completion_mode,
        first.completion_count,
    )
    lasts = [r.course_last for r in rows if r.course_last]
    last = max(lasts) if lasts else None
    started = any(
        r.state in (CompletionState.IN_PROGRESS, CompletionState.COMPLETED, CompletionState.FAILED)
        for r in rows
    )
    values = {"id": assignment_id, "progress": progress, "courses_completed": done,
              "last_activity_at": last}  # fmt: skip
    if complete:
        values.update(status=AssignmentStatus.COMPLETED, completed_at=now)
        if first.validity_months:
            y, m, d = rules.add_months(now.year, now.month, now.day, first.validity_months)
            values["expires_at"] = now.replace(year=y, month=m, day=d)
    else:
        started = started or progress > 0
        values["status"] = AssignmentStatus.IN_PROGRESS if started else AssignmentStatus.ASSIGNED
    unchanged = (
        values["status"] == first.status
        and progress == first.progress
        and done == first.courses_completed
        and last == first.last_activity_at
    )
    return None if unchanged else values


def _announce_completions(assignment_ids: list[int]) -> None:
    app = current_app._get_current_object()
    assignments = db.session.scalars(
        select(ProgramAssignment).where(ProgramAssignment.id.in_(assignment_ids))
    ).all()
    link = learning_link()
    for a in assignments:
        notify(a.user, "program_completed", f"Well done: you completed “{a.program.name}”.", link)
        signals.program_completed.send(app, user=a.user, program=a.program, assignment=a)
