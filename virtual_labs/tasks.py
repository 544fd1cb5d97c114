"""The grading task, shared by every executor (inline, the local pool and Celery workers).

A task claims a submission, grades it in the sandbox while a heartbeat keeps its lease, stores
the result and commits. It holds no database transaction while the sandbox runs (SQLite would
otherwise block other writers for seconds).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext

from celery import Celery, Task, shared_task
from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from lms.extensions import db
from virtual_labs import broker, jobs, submission_queue, uidpool
from virtual_labs.models import LabSubmission, SubmissionStatus

log = logging.getLogger(__name__)
TASK_NAME = "virtual_labs.grade_submission"
STORE_ATTEMPTS = 3
# A queued row younger than this may still be on its way to the broker (see requeue_pending).
ORPHAN_GRACE_SECONDS = 10.0
ORPHAN_RECHECK_SECONDS = 1.0


def worker_name(kind: str) -> str:
    """An id naming this process (and thread) in ``lab_submissions.worker_id``."""
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:120]


@contextmanager
def heartbeat(app: Flask, submission_ids: Sequence[int], worker_id: str) -> Iterator[None]:
    """Refresh the submissions' leases every LAB_HEARTBEAT_SECONDS while the body runs."""
    interval = float(app.config.get("LAB_HEARTBEAT_SECONDS", 5.0))
    stop = threading.Event()

    def beat() -> None:
        """Refresh the leases until told to stop."""
        while not stop.wait(interval):
            with app.app_context():
                try:
                    submission_queue.touch_heartbeat(submission_ids, worker_id)
                    db.session.commit()
                except Exception:  # a missed beat only risks a duplicate run, never a loss
                    log.exception("lab heartbeat failed for submissions %s", submission_ids)
                    db.session.rollback()
                finally:
                    db.session.remove()

    thread = threading.Thread(target=beat, name=f"lab-heartbeat-{submission_ids[0]}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=interval + 5)


def grade_claimed(
    submission_id: int, worker_id: str, slots: threading.BoundedSemaphore | None = None
) -> str:
    """Grade a submission this worker has claimed; store and commit the result."""
    return grade_claimed_batch([submission_id], worker_id, slots)[0]


def grade_claimed_batch(
    submission_ids: Sequence[int],
    worker_id: str,
    slots: threading.BoundedSemaphore | None = None,
) -> list[str]:
    """Grade the submissions this worker has claimed, one after another; store them together.

    The caller's transaction (the claim) is committed here together with loading the jobs, so
    no transaction stays open during the sandbox runs. Each run holds one of ``slots``; the
    results are stored and their grades recorded in one transaction (one commit, and each
    course's completions read and written once for the whole batch). Returns what happened
    to each: "done", or "lost-lease" when another worker took the submission over.
    """
    app = current_app._get_current_object()
    claimed = jobs.load_jobs(submission_ids)
    db.session.commit()
    outcomes = []
    with heartbeat(app, submission_ids, worker_id):
        for job in claimed:
            with slots or nullcontext():
                outcomes.append(_grade(job))
    try:
        return _store(worker_id, outcomes)
    except Exception:
        if len(outcomes) == 1:
            raise
        # One bad result must not cost the others theirs: each is stored on its own.
        log.exception("storing a batch of %d lab results failed; storing each", len(outcomes))
        db.session.rollback()
        return [_store_alone(worker_id, outcome) for outcome in outcomes]


def _store_alone(worker_id: str, outcome: jobs.Outcome) -> str:
    """Store one outcome of a batch that could not be stored whole; "not-stored" on failure
    (the submission stays running until its lease goes stale, then it is graded again)."""
    try:
        return _store(worker_id, [outcome])[0]
    except Exception:
        log.exception("storing lab submission %s failed", outcome.job.submission_id)
        db.session.rollback()
        return "not-stored"


def _grade(job: jobs.Job) -> jobs.Outcome:
    """Grade one job in the sandbox; a failing grader is an outcome with an error."""
    try:
        return jobs.Outcome(job, jobs.grade_job(job))
    except Exception:
        log.exception("grading submission %s failed", job.submission_id)
        return jobs.Outcome(
            job, None, "The grader failed while checking this code. Please try again."
        )


def _store(worker_id: str, outcomes: list[jobs.Outcome]) -> list[str]:
    """Store the outcomes and commit, again after a write conflict; what happened to each."""
    for attempt in range(STORE_ATTEMPTS):
        try:
            stored = jobs.store_results(worker_id, outcomes)
            db.session.commit()
            return ["done" if won else "lost-lease" for won in stored]
        except (IntegrityError, OperationalError):
            # Two workers recording a learner's first grade at once (unique completion row) or
            # a busy SQLite: the transaction is rolled back and simply done again.
            db.session.rollback()
            if attempt == STORE_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def execute_submission(submission_id: int, worker_id: str) -> str:
    """Claim, grade and store one submission. Returns what happened (for logs and tests)."""
    if not submission_queue.claim_submission(submission_id, worker_id):
        failed = submission_queue.fail_exhausted(submission_id)
        db.session.commit()
        return "failed" if failed else "skipped"
    return grade_claimed(submission_id, worker_id)


def work_next(
    worker_id: str, slots: threading.BoundedSemaphore | None = None, limit: int = 1
) -> list[int]:
    """Claim up to ``limit`` of the oldest queued submissions and grade them; their ids.

    ``slots`` bounds how many sandbox runs happen at once (one per core), so a pool can have
    more threads than cores: one thread's database work overlaps another's sandbox run. An
    empty list: the queue is empty.
    """
    submission_ids = submission_queue.claim_batch(worker_id, limit)
    if not submission_ids:
        db.session.commit()
        return []
    grade_claimed_batch(submission_ids, worker_id, slots)
    return submission_ids


# --- Celery (the Flask docs' pattern) ----------------------------------------------------------
def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app for ``app``: tasks run inside an app context, acks late."""

    class FlaskTask(Task):
        """Celery task that runs inside the Flask app context."""

        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                try:
                    return self.run(*args, **kwargs)
                finally:
                    db.session.remove()

    celery_app = Celery(app.name, task_cls=FlaskTask)
    broker_url = app.config["CELERY_BROKER_URL"]
    celery_app.config_from_object(
        {
            "broker_url": broker_url,
            # Celery lets a CELERY_BROKER_URL in the environment win over ``broker_url``; the
            # read and write URLs win over both, so the Flask config (which already reads that
            # variable) is the one truth for the web process and the workers alike.
            "broker_read_url": broker_url,
            "broker_write_url": broker_url,
            # Lab tasks ignore results; Jobe API runs wait for theirs (the broker by default).
            "result_backend": app.config.get("CELERY_RESULT_BACKEND")
            or app.config["CELERY_BROKER_URL"],
            "result_expires": 3600,
            "task_ignore_result": True,
            # A worker killed mid-run must not have acknowledged the message: it is redelivered.
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "task_default_queue": app.config.get("LAB_CELERY_QUEUE", "labs"),
            "broker_connection_retry_on_startup": True,
            "broker_transport_options": {
                # Unacknowledged messages of a dead worker come back after this many seconds.
                "visibility_timeout": int(app.config.get("LAB_CELERY_VISIBILITY_TIMEOUT", 300)),
            },
            "worker_hijack_root_logger": False,
        }
    )
    # grade_submission_task is a shared task: it binds to this app when the app finalizes.
    app.extensions["celery"] = celery_app
    return celery_app


@shared_task(
    name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None
)
def grade_submission_task(self: Task, submission_id: int) -> str:
    """Celery entry point: grade one submission; retry later if another worker holds it."""
    outcome = execute_submission(submission_id, worker_name("celery"))
    if outcome == "skipped":
        sub = db.session.get(LabSubmission, submission_id)
        if sub is not None and sub.status == SubmissionStatus.RUNNING:
            # Another worker holds a fresh lease: look again once it could have gone stale.
            stale = float(current_app.config.get("LAB_STALE_SECONDS", 60.0))
            raise self.retry(countdown=stale)
    return outcome


def recover_abandoned_work() -> tuple[int, int]:
    """Requeue (or fail) runs whose worker died, and delete their sandbox work directories.

    Commits. Returns (requeued, failed). Every executor runs it at start and periodically.
    """
    requeued, failed = submission_queue.recover_stale()
    db.session.commit()
    try:
        removed = uidpool.remove_abandoned_work()
    except OSError:  # the sandbox directory is checked (and reported) where runs need it
        log.exception("could not sweep the sandbox directory")
    else:
        if removed:
            log.warning("removed %d sandbox directories left by killed runs", removed)
    return requeued, failed


def send_submission(app: Flask, submission_id: int) -> None:
    """Send one grading task to Celery (its task id names the submission, see ``broker``)."""
    celery_app = app.extensions.get("celery") or celery_init_app(app)
    celery_app.send_task(TASK_NAME, args=[submission_id], task_id=broker.task_id(submission_id))


def sweep_stale_runs(app: Flask) -> int:
    """Requeue runs whose worker died and send them to Celery again; return how many.

    The broker also redelivers an unacknowledged message after its visibility timeout, but that
    depends on the broker (a worker killed while holding Redis' restore lock delays it for
    minutes); the database lease does not, so live workers sweep for dead ones' work.
    """
    submission_queue.expire_dead_leases()
    ids = submission_queue.stale_running_ids()
    recover_abandoned_work()
    if not ids:
        return 0
    requeued = db.session.scalars(
        select(LabSubmission.id).where(
            LabSubmission.id.in_(ids), LabSubmission.status == SubmissionStatus.QUEUED
        )
    ).all()
    for submission_id in requeued:
        send_submission(app, submission_id)
    return len(requeued)


def orphaned_submission_ids(app: Flask) -> list[int]:
    """Queued submissions that no message in the broker will ever grade.

    Only rows older than ``ORPHAN_GRACE_SECONDS`` count (a web process may be between its
    commit and its send). A row whose message is in flight between the broker and a worker
    shows in neither place for a moment, so a suspect must still be orphaned a second later.
    """
    candidates = submission_queue.pending_submission_ids(older_than=ORPHAN_GRACE_SECONDS)
    if not candidates:
        return []
    celery_app = app.extensions.get("celery") or celery_init_app(app)
    queue = app.config.get("LAB_CELERY_QUEUE", "labs")
    held = broker.held_submission_ids(celery_app, queue, TASK_NAME)
    if held is None:  # the broker cannot be browsed: send all (duplicates are skipped)
        return candidates
    suspects = set(candidates) - held
    if not suspects:
        return []
    time.sleep(ORPHAN_RECHECK_SECONDS)
    db.session.rollback()  # a fresh snapshot of the rows
    still = set(submission_queue.pending_submission_ids(older_than=ORPHAN_GRACE_SECONDS))
    held = broker.held_submission_ids(celery_app, queue, TASK_NAME) or set()
    return sorted((suspects & still) - held)


def requeue_pending(app: Flask, everything: bool = False) -> int:
    """Take back dead workers' runs and send orphaned queued submissions to Celery.

    Run at worker start and by every sweep, and by ``flask labs requeue`` (``everything``: send
    every queued submission, for an operator who knows the broker lost its messages).
    Returns how many tasks were sent.
    """
    sent = sweep_stale_runs(app)
    ids = submission_queue.pending_submission_ids() if everything else orphaned_submission_ids(app)
    for submission_id in ids:
        send_submission(app, submission_id)
    if ids:
        log.warning("Sent %d orphaned lab submissions to Celery: %s", len(ids), ids[:20])
    return sent + len(ids)
