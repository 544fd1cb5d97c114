"""Reminders before the due date and when overdue; expiry and re-certification (for cron)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update

from lms.extensions import db
from lms.mail import send_mail
from lms.models import Membership
from lms.progress.assignments import OPEN_STATUSES, learning_link, notify
from lms.progress.models import (
    ActivityCompletion,
    AssignmentReminder,
    AssignmentStatus,
    CompletionHistory,
    CourseCompletion,
    Program,
    ProgramAssignment,
)
from lms.progress.programs import create_assignments, org_learner_ids, users_by_id
from lms.timeutil import utcnow

#: reminder windows: days before the due date
DUE_SOON_DAYS = 7
#: an overdue assignment is reminded once per this many days
OVERDUE_EVERY_DAYS = 7


# --- reminders, expiry and re-certification ----------------------------------------------------
def _windows(a_due: datetime, now: datetime) -> str | None:
    """The reminder window an open assignment is in at ``now`` (None: no reminder due)."""
    if a_due is None:
        return None
    if now > a_due:
        week = int((now - a_due).days // OVERDUE_EVERY_DAYS) + 1
        return f"overdue-w{week}"
    if a_due - now <= timedelta(days=DUE_SOON_DAYS):
        return f"due-{DUE_SOON_DAYS}d"
    return None


def send_reminders(now: datetime | None = None) -> int:
    """Remind employees of assignments due within a week, and weekly once overdue (idempotent).

    Each (assignment, window) is recorded in :class:`AssignmentReminder` with a unique key, so
    running this twice (cron overlap, retries) never sends the same reminder twice.
    """
    now = now or utcnow()
    todo = _reminders_due(now)
    if not todo:
        return 0
    users = users_by_id(row.user_id for _, row in todo)
    link = learning_link()
    db.session.execute(
        insert(AssignmentReminder),
        [{"assignment_id": k[0], "window": k[1], "sent_at": now} for k, _ in todo],
    )
    for (_, window), row in todo:
        _remind(users[row.user_id], window, row, link)
    db.session.flush()
    return len(todo)


def _reminders_due(now: datetime) -> list[tuple[tuple[int, str], Any]]:
    """((assignment id, window), row) of the reminders due now and not sent yet (two queries)."""
    horizon = now + timedelta(days=DUE_SOON_DAYS)
    rows = db.session.execute(
        select(
            ProgramAssignment.id, ProgramAssignment.due_at, ProgramAssignment.user_id, Program.name
        )  # fmt: skip
        .join(Program, Program.id == ProgramAssignment.program_id)
        .where(
            ProgramAssignment.status.in_(OPEN_STATUSES),
            ProgramAssignment.due_at.is_not(None),
            ProgramAssignment.due_at <= horizon,
            Program.archived.is_(False),
        )
    ).all()
    wanted = {(r.id, _windows(r.due_at, now)): r for r in rows if _windows(r.due_at, now)}
    if not wanted:
        return []
    sent = set(
        db.session.execute(
            select(AssignmentReminder.assignment_id, AssignmentReminder.window).where(
                AssignmentReminder.assignment_id.in_([k[0] for k in wanted])
            )
        ).all()
    )
    return [(key, row) for key, row in wanted.items() if key not in sent]


def _remind(user, window: str, row, link: str) -> None:
    """Notify and mail one employee of one due-soon or overdue assignment."""
    if window.startswith("overdue"):
        message = f"“{row.name}” was due on {row.due_at:%d %b %Y} and is overdue."
        kind = "program_overdue"
    else:
        message = f"“{row.name}” is due on {row.due_at:%d %b %Y}."
        kind = "program_due_soon"
    notify(user, kind, message, link)
    send_mail(user.email, f"Reminder: {row.name}", f"Hello {user.name},\n\n{message}\n\n{link}\n")


def expire_and_recertify(now: datetime | None = None) -> int:
    """Expire completed assignments past their validity and assign the program again.

    The expired cycle keeps its record; the employee's completions of the program's courses are
    archived in :class:`CompletionHistory` and reset, so the new cycle is earned again.
    """
    now = now or utcnow()
    expired = db.session.scalars(
        select(ProgramAssignment).where(
            ProgramAssignment.status == AssignmentStatus.COMPLETED,
            ProgramAssignment.expires_at.is_not(None),
            ProgramAssignment.expires_at <= now,
        )
    ).all()
    if not expired:
        return 0
    by_program: dict[int, list[ProgramAssignment]] = defaultdict(list)
    for a in expired:
        a.status = AssignmentStatus.EXPIRED
        by_program[a.program_id].append(a)
    db.session.flush()
    for program_id, rows in by_program.items():
        program = db.session.get(Program, program_id)
        user_ids = [a.user_id for a in rows]
        still_members = set(
            db.session.scalars(
                org_learner_ids(program.organization_id).where(Membership.user_id.in_(user_ids))
            )
        )
        rows = [a for a in rows if a.user_id in still_members]
        if program.archived or not rows:
            continue
        reset_completions([a.user_id for a in rows], [pc.course_id for pc in program.courses], now)
        create_assignments(
            program, [a.user_id for a in rows], None, now, {a.user_id: a.cycle + 1 for a in rows}
        )
    return len(expired)


def reset_completions(user_ids: list[int], course_ids: list[int], now: datetime) -> None:
    """Archive and reset the learners' completion of the courses (for a new certification cycle)."""
    if not user_ids or not course_ids:
        return
    where = (CourseCompletion.user_id.in_(user_ids), CourseCompletion.course_id.in_(course_ids))
    old = db.session.execute(
        select(
            CourseCompletion.user_id,
            CourseCompletion.course_id,
            CourseCompletion.state,
            CourseCompletion.grade,
            CourseCompletion.completed_at,
        ).where(*where)  # fmt: skip
    ).all()
    if old:
        db.session.execute(
            insert(CompletionHistory),
            [
                {
                    "user_id": r.user_id,
                    "course_id": r.course_id,
                    "state": r.state,
                    "grade": r.grade,
                    "completed_at": r.completed_at,
                    "archived_at": now,
                    "reason": "re-certification",
                }
                for r in old
            ],  # fmt: skip
        )
    db.session.execute(
        update(CourseCompletion)
        .where(*where)
        .values(state="not_started", progress=0.0, grade=None, completed_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        delete(ActivityCompletion)
        .where(
            ActivityCompletion.user_id.in_(user_ids), ActivityCompletion.course_id.in_(course_ids)
        )
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
