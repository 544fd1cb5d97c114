"""The submissions queue: the ``lab_submissions`` table, claimed by workers.

Workers claim ``queued`` rows with an atomic conditional UPDATE (the same on SQLite and
PostgreSQL), keep ``heartbeat_at`` fresh while the sandbox runs, and store the result only while
they still hold the lease. A ``running`` row whose heartbeat went stale (a crashed or killed
worker) is put back in the queue, so a submission is never lost. What a claimed submission is
graded with, and how its result is stored, is in :mod:`virtual_labs.jobs`. Like services, these
functions flush and never commit: the task commits.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import and_, func, or_, select, update

from lms.extensions import db
from lms.timeutil import utcnow
from virtual_labs.models import (
    LabSubmission,
    SubmissionStatus,
)
from virtual_labs.services import setting


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


def claim_batch(worker_id: str, limit: int) -> list[int]:
    """Claim up to ``limit`` of the oldest queued submissions in one statement; their ids.

    ``WITH picked AS MATERIALIZED (SELECT ... LIMIT n) UPDATE ... WHERE id IN picked RETURNING
    id``: SQLite runs it under its write lock; on PostgreSQL the pick skips rows another worker
    is claiming (SKIP LOCKED) and is evaluated once (a plain ``IN (subquery)`` may be run again
    for each row, each time skipping the rows locked so far, and claim far more than ``n``),
    and the status condition makes a lost race return nothing rather than claim twice.
    """
    max_attempts = int(setting("LAB_MAX_ATTEMPTS"))
    oldest = (
        select(LabSubmission.id)
        .where(
            LabSubmission.status == SubmissionStatus.QUEUED,
            LabSubmission.attempts < max_attempts,
        )
        .order_by(LabSubmission.id)
        .limit(max(1, int(limit)))
    )
    if db.engine.dialect.name == "postgresql":
        oldest = oldest.with_for_update(skip_locked=True)
    picked = oldest.cte("picked").prefix_with("MATERIALIZED")
    now = utcnow()
    claimed = db.session.scalars(
        update(LabSubmission)
        .where(
            LabSubmission.id.in_(select(picked.c.id)),
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
    )
    return sorted(claimed)


def touch_heartbeat(submission_ids: Sequence[int], worker_id: str) -> int:
    """Keep the leases of running submissions; how many this worker still holds."""
    result = db.session.execute(
        update(LabSubmission)
        .where(
            LabSubmission.id.in_(submission_ids),
            LabSubmission.worker_id == worker_id,
            LabSubmission.status == SubmissionStatus.RUNNING,
        )
        .values(heartbeat_at=utcnow())
        .execution_options(synchronize_session=False, page_owners=_NO_PAGE)
    )
    return result.rowcount


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


def queued_count(at_most: int) -> int:
    """How many submissions wait in the queue, counted up to ``at_most`` (an index range)."""
    waiting = (
        select(LabSubmission.id)
        .where(LabSubmission.status == SubmissionStatus.QUEUED)
        .limit(at_most)
        .subquery()
    )
    return db.session.scalar(select(func.count()).select_from(waiting))


def pending_submission_ids(older_than: float = 0.0) -> list[int]:
    """Queued submissions, oldest first; with ``older_than``, only rows at least that old."""
    query = select(LabSubmission.id).where(LabSubmission.status == SubmissionStatus.QUEUED)
    if older_than:
        query = query.where(LabSubmission.created_at <= utcnow() - timedelta(seconds=older_than))
    return list(db.session.scalars(query.order_by(LabSubmission.id)))


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
