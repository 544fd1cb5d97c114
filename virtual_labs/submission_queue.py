"""The submissions queue: the ``lab_submissions`` table, claimed by workers.

Workers claim ``queued`` rows with an atomic conditional UPDATE (the same on SQLite and
PostgreSQL), keep ``heartbeat_at`` fresh while the sandbox runs, and store the result only while
they still hold the lease. A ``running`` row whose heartbeat went stale (a crashed or killed
worker) is put back in the queue, so a submission is never lost. Like services, these functions
flush and never commit: the task commits.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import joinedload

from lms.extensions import db
from lms.models import Membership, User
from lms.timeutil import utcnow
from virtual_labs.models import (
    LIMIT_BOUNDS,
    Lab,
    LabSubmission,
    LabTest,
    SubmissionKind,
    SubmissionStatus,
)
from virtual_labs.services import is_enrolled, setting, test_spec


def _stale_cutoff():
    return utcnow() - timedelta(seconds=float(setting("LAB_STALE_SECONDS")))


def _is_stale():
    return or_(LabSubmission.heartbeat_at.is_(None), LabSubmission.heartbeat_at < _stale_cutoff())


#: Claiming and keeping a lease change no kept page (lms.pagecache): a lab page kept while the
#: submission was queued says so until its result is stored; its polled live status says more.
_NO_PAGE = ()


def claim_submission(submission_id: int, worker_id: str) -> bool:
    """Atomically take one submission for ``worker_id``: queued, or running but stale.

    A conditional UPDATE is atomic on every database, so two workers never both win.
    """
    now = utcnow()
    result = db.session.execute(
        update(LabSubmission)
        .where(
            LabSubmission.id == submission_id,
            LabSubmission.attempts < int(setting("LAB_MAX_ATTEMPTS")),
            or_(
                LabSubmission.status == SubmissionStatus.QUEUED,
                and_(LabSubmission.status == SubmissionStatus.RUNNING, _is_stale()),
            ),
        )
        .values(
            status=SubmissionStatus.RUNNING,
            worker_id=worker_id,
            started_at=now,
            heartbeat_at=now,
            attempts=LabSubmission.attempts + 1,
        )
        .execution_options(synchronize_session=False, page_owners=_NO_PAGE)
    )
    return result.rowcount == 1


def claim_next(worker_id: str) -> int | None:
    """Claim the oldest queued submission in one statement; its id, or None if there is none.

    ``UPDATE ... WHERE id = (SELECT ... LIMIT 1) RETURNING id``: SQLite runs it under its write
    lock; on PostgreSQL the subquery skips rows another worker is claiming (SKIP LOCKED), and
    the status condition makes a lost race return nothing rather than claim twice.
    """
    max_attempts = int(setting("LAB_MAX_ATTEMPTS"))
    oldest = (
        select(LabSubmission.id)
        .where(
            LabSubmission.status == SubmissionStatus.QUEUED,
            LabSubmission.attempts < max_attempts,
        )
        .order_by(LabSubmission.id)
        .limit(1)
    )
    if db.engine.dialect.name == "postgresql":
        oldest = oldest.with_for_update(skip_locked=True)
    now = utcnow()
    return db.session.execute(
        update(LabSubmission)
        .where(
            LabSubmission.id == oldest.scalar_subquery(),
            LabSubmission.status == SubmissionStatus.QUEUED,
        )
        .values(
            status=SubmissionStatus.RUNNING,
            worker_id=worker_id,
            started_at=now,
            heartbeat_at=now,
            attempts=LabSubmission.attempts + 1,
        )
        .returning(LabSubmission.id)
        .execution_options(synchronize_session=False, page_owners=_NO_PAGE)
    ).scalar()


def touch_heartbeat(submission_id: int, worker_id: str) -> bool:
    """Keep a running submission's lease; False when another worker took it over."""
    result = db.session.execute(
        update(LabSubmission)
        .where(
            LabSubmission.id == submission_id,
            LabSubmission.worker_id == worker_id,
            LabSubmission.status == SubmissionStatus.RUNNING,
        )
        .values(heartbeat_at=utcnow())
        .execution_options(synchronize_session=False, page_owners=_NO_PAGE)
    )
    return result.rowcount == 1


def _process_is_dead(worker_id: str, host: str) -> bool:
    """Whether ``worker_id`` (see ``tasks.worker_name``) names a process of this host that is gone.

    Only a definite "no such process" counts: a live pid (even a reused one) or another host's
    worker keeps its lease until the heartbeat goes stale.
    """
    parts = worker_id.split(":")
    if len(parts) != 4 or parts[1] != host or not parts[2].isdigit():
        return False
    try:
        os.kill(int(parts[2]), 0)
    except ProcessLookupError:
        return True
    except OSError:  # EPERM: alive, someone else's
        return False
    return False


def expire_dead_leases() -> int:
    """End at once the leases of this host's processes that died (a restarted web process).

    A restart would otherwise leave its runs ``running`` until the heartbeat goes stale
    (``LAB_STALE_SECONDS``); the learners waiting for them could not even submit again.
    """
    host = socket.gethostname()
    rows = db.session.execute(
        select(LabSubmission.id, LabSubmission.worker_id).where(
            LabSubmission.status == SubmissionStatus.RUNNING,
            LabSubmission.worker_id.like(f"%:{host}:%"),
        )
    ).all()
    dead = [sub_id for sub_id, worker in rows if worker and _process_is_dead(worker, host)]
    if not dead:
        return 0
    return db.session.execute(
        update(LabSubmission)
        .where(LabSubmission.id.in_(dead), LabSubmission.status == SubmissionStatus.RUNNING)
        .values(heartbeat_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount


def recover_stale() -> tuple[int, int]:
    """Put stale running submissions back in the queue (or fail them after too many attempts).

    Run when a worker pool starts and periodically: a worker that crashed or was killed stops
    its heartbeat, so its submission is picked up again instead of being lost. Leases held by
    dead processes of this host end at once (see ``expire_dead_leases``).
    Returns (requeued, failed).
    """
    expire_dead_leases()
    max_attempts = int(setting("LAB_MAX_ATTEMPTS"))
    stale = and_(LabSubmission.status == SubmissionStatus.RUNNING, _is_stale())
    failed = db.session.execute(
        update(LabSubmission)
        .where(stale, LabSubmission.attempts >= max_attempts)
        .values(
            status=SubmissionStatus.ERROR,
            verdict="sandbox_error",
            finished_at=utcnow(),
            worker_id=None,
            error=(
                f"The grader stopped {max_attempts} times while checking this code. "
                "Please try again; if it keeps happening, tell the trainer."
            ),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    requeued = db.session.execute(
        update(LabSubmission)
        .where(stale)
        .values(status=SubmissionStatus.QUEUED, worker_id=None, heartbeat_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.flush()
    return requeued, failed


def stale_running_ids() -> list[int]:
    """Running submissions whose worker stopped sending heartbeats (killed, crashed, cut off)."""
    return list(
        db.session.scalars(
            select(LabSubmission.id)
            .where(LabSubmission.status == SubmissionStatus.RUNNING, _is_stale())
            .order_by(LabSubmission.id)
        )
    )


def pending_submission_ids(older_than: float = 0.0) -> list[int]:
    """Queued submissions, oldest first; with ``older_than``, only rows at least that old."""
    query = select(LabSubmission.id).where(LabSubmission.status == SubmissionStatus.QUEUED)
    if older_than:
        query = query.where(LabSubmission.created_at <= utcnow() - timedelta(seconds=older_than))
    return list(db.session.scalars(query.order_by(LabSubmission.id)))


# --- grading a claimed submission -------------------------------------------------------------
@dataclass(frozen=True)
class Job:
    """Everything needed to grade a submission, detached from the database session."""

    submission_id: int
    language: str
    files: dict[str, str]
    tests: list[dict[str, Any]] = field(default_factory=list)
    limits: dict[str, float] = field(default_factory=dict)
    kind: str = SubmissionKind.SUBMIT
    user_id: int | None = None
    lab_id: int | None = None


def load_job(submission_id: int) -> Job:
    """The job of a submission: two plain queries, no ORM objects (the grade's recording loads
    the lab once, after the run: an object loaded here would only be expired and reloaded)."""
    limit_columns = [getattr(Lab, name) for name in LIMIT_BOUNDS]
    row = db.session.execute(
        select(
            LabSubmission.lab_id,
            LabSubmission.user_id,
            LabSubmission.files,
            LabSubmission.kind,
            Lab.language,
            *limit_columns,
        )
        .join(Lab, Lab.id == LabSubmission.lab_id)
        .where(LabSubmission.id == submission_id)
    ).one()
    tests = select(LabTest).where(LabTest.lab_id == row.lab_id).order_by(LabTest.position)
    if row.kind == SubmissionKind.RUN:
        tests = tests.where(LabTest.hidden.is_(False))
    return Job(
        submission_id=submission_id,
        language=row.language,
        files=dict(row.files),
        tests=[t.to_content() for t in db.session.scalars(tests)],
        limits={name: getattr(row, name) for name in LIMIT_BOUNDS},
        kind=row.kind,
        user_id=row.user_id,
        lab_id=row.lab_id,
    )


def grade_job(job: Job) -> dict[str, Any]:
    """Run the job through the sandbox and grader; the report as a dict (no database access)."""
    from virtual_labs.grading import grade_submission
    from virtual_labs.sandbox import Limits

    limits = Limits(
        cpu_s=float(job.limits["cpu_s"]),
        wall_s=float(job.limits["wall_s"]),
        memory_mb=int(job.limits["memory_mb"]),
        procs=int(job.limits["procs"]),
        output_kb=int(job.limits["output_kb"]),
    )
    report = grade_submission(job.language, job.files, [test_spec(t) for t in job.tests], limits)
    return report.to_dict()


def store_result(
    submission_id: int,
    worker_id: str,
    report: dict[str, Any] | None,
    error: str = "",
    job: Job | None = None,
) -> bool:
    """Store the outcome if ``worker_id`` still holds the submission; record the grade.

    A graded submission of an enrolled learner is recorded as a "graded" learning event in the
    same transaction, so completion follows at once. False when the lease was lost (another
    worker took the submission over): nothing is stored then.
    """
    values = _result_values(report, error)
    counted = None
    if report is not None:
        counted = _counted_submit(submission_id, job)
        if counted is not False:
            # Marked in the same UPDATE that stores the result (one statement less per job).
            values["counted"] = counted is not None
    owners = (job.user_id,) if job and job.user_id else None  # whose kept pages show it
    won = db.session.execute(
        update(LabSubmission)
        .where(
            LabSubmission.id == submission_id,
            LabSubmission.worker_id == worker_id,
            LabSubmission.status == SubmissionStatus.RUNNING,
        )
        .values(**values)
        .execution_options(synchronize_session=False, page_owners=owners)
    ).rowcount
    if won != 1:
        return False
    if counted:
        from lms.progress.services import record_activity_event

        user, lab = counted
        record_activity_event(user, lab, "graded", grade=float(report.get("score") or 0.0))
    db.session.flush()
    return True


def _result_values(report: dict[str, Any] | None, error: str) -> dict[str, Any]:
    """The columns a finished run sets: its report, or the error when the sandbox failed."""
    now = utcnow()
    values: dict[str, Any] = {"finished_at": now, "heartbeat_at": now}
    if report is None:
        values.update(status=SubmissionStatus.ERROR, verdict="sandbox_error", error=error)
    else:
        values.update(
            status=SubmissionStatus.DONE,
            verdict=report.get("verdict"),
            score=report.get("score"),
            report=report,
        )
    return values


def _counted_submit(submission_id: int, job: Job | None):
    """For a graded submission: False for a mere run, else ``_countable``'s (user, lab) or None."""
    if job is None:
        kind, user_id, lab_id = db.session.execute(
            select(LabSubmission.kind, LabSubmission.user_id, LabSubmission.lab_id).where(
                LabSubmission.id == submission_id
            )
        ).one()
    else:
        kind, user_id, lab_id = job.kind, job.user_id, job.lab_id
    if kind != SubmissionKind.SUBMIT:
        return False
    return _countable(user_id, lab_id)


def _countable(user_id: int, lab_id: int):
    """(user, lab) when the grade counts for completion (an enrolled learner), else None.

    Authors previewing and withdrawn learners are graded but not counted.
    """
    # What recording the grade reads comes in these two queries, not in lazy loads: the
    # statements name the learner's organization (memberships) and the lab's course.
    user = db.session.get(
        User, user_id, options=[joinedload(User.memberships).joinedload(Membership.organization)]
    )
    lab = db.session.get(Lab, lab_id, options=[joinedload(Lab.course)])
    if user is None or lab is None or not is_enrolled(user, lab):
        return None
    return user, lab


def fail_exhausted(submission_id: int) -> bool:
    """Fail a submission whose attempts are used up and whose last run went stale."""
    max_attempts = int(setting("LAB_MAX_ATTEMPTS"))
    result = db.session.execute(
        update(LabSubmission)
        .where(
            LabSubmission.id == submission_id,
            LabSubmission.attempts >= max_attempts,
            or_(
                LabSubmission.status == SubmissionStatus.QUEUED,
                and_(LabSubmission.status == SubmissionStatus.RUNNING, _is_stale()),
            ),
        )
        .values(
            status=SubmissionStatus.ERROR,
            verdict="sandbox_error",
            finished_at=utcnow(),
            error=f"The grader stopped {max_attempts} times while checking this code.",
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
