"""Where submissions are graded, chosen by ``LAB_EXECUTOR``.

- ``local`` (default): a bounded pool of worker threads in this process (``LAB_WORKERS``, one per
  core by default), fed from the database queue. It starts with the first request a web process
  serves (never in the app factory), or as a dedicated process: ``flask labs worker``. On start
  and every ``LAB_STALE_SECONDS / 2`` it takes back the work of dead workers.
- ``celery``: the same task on Celery workers (``celery -A virtual_labs.worker worker``).
- ``inline``: grades inside the request; for the test suite only, never for production.

Every executor runs :func:`virtual_labs.tasks.execute_submission`, and the database row is the
source of truth, so a submission survives a crash of whichever process was grading it.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from lms.extensions import db
from virtual_labs import submission_queue, tasks

log = logging.getLogger(__name__)
EXECUTORS = ("local", "celery", "inline")


class InlineExecutor:
    """Grade synchronously in the caller (tests)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def dispatch(self, submission_id: int) -> None:
        """Grade the submission now, in this request."""
        tasks.execute_submission(submission_id, tasks.worker_name("inline"))


class CeleryExecutor:
    """Send the task to Celery; the row stays queued (and is re-sent) if the broker is down."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def dispatch(self, submission_id: int) -> None:
        """Send the submission's task to the broker (a failure leaves it to the sweep)."""
        try:
            tasks.send_submission(self.app, submission_id)
        except Exception:  # broker unreachable: the workers' sweep finds the orphan and sends it
            log.exception("could not send lab submission %s to Celery", submission_id)


class LocalPool:
    """Worker threads that claim queued submissions from the database and grade them.

    Threads are enough: the work happens in sandboxed child processes, so the GIL is not the
    bottleneck. ``workers`` sandbox runs happen at once (one per core by default); the pool has
    twice as many threads so that claiming and storing results (database round trips) overlap
    with the sandbox runs of other threads. Each thread claims with an atomic UPDATE, so
    several processes (gunicorn workers, ``flask labs worker``) can share one queue.
    """

    THREADS_PER_SLOT = 2

    def __init__(self, app: Flask, workers: int, poll_seconds: float = 1.0) -> None:
        self.app = app
        self.workers = max(1, int(workers))
        self._slots = threading.BoundedSemaphore(self.workers)
        self.poll_seconds = poll_seconds
        self._cv = threading.Condition()
        self._generation = 0
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._recovery_lock = threading.Lock()
        self._last_recovery = float("-inf")  # the first thread to run recovers at once
        self.started = False

    @property
    def slots(self) -> threading.BoundedSemaphore:
        """The sandbox slots: held by a grading thread, or by a Jobe API run, while it runs."""
        return self._slots

    @property
    def running(self) -> bool:
        """Whether any of the pool's threads is alive."""
        return any(t.is_alive() for t in self._threads)

    def start(self) -> None:
        """Start the threads; the first one recovers the work a crash left, then all claim.

        Recovery runs in a pool thread, not in the caller (a web request): it may wait for the
        database, and it needs no answer.
        """
        self.started = True
        for n in range(self.workers * self.THREADS_PER_SLOT):
            thread = threading.Thread(target=self._loop, name=f"lab-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """Tell idle threads there is work (they also poll, for work queued by other processes)."""
        with self._cv:
            self._generation += 1
            self._cv.notify()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the threads once their current submissions are stored."""
        self.started = False
        self._stopping.set()
        with self._cv:
            self._cv.notify_all()
        for thread in self._threads:
            thread.join(timeout=timeout)
        self._threads = []

    def _maybe_recover(self) -> None:
        """At start and every LAB_STALE_SECONDS / 2: take back what dead workers left."""
        interval = float(self.app.config.get("LAB_STALE_SECONDS", 60.0)) / 2
        if time.monotonic() - self._last_recovery < interval:
            return
        if not self._recovery_lock.acquire(blocking=False):
            return  # another thread is at it
        try:
            self._last_recovery = time.monotonic()
            requeued, failed = tasks.recover_abandoned_work()
            if requeued or failed:
                log.warning("lab pool: requeued %s stale submissions, failed %s", requeued, failed)
        finally:
            self._recovery_lock.release()

    def _claim_size(self) -> int:
        """How many submissions a thread claims now: its fair share of the queue, at most
        ``LAB_BATCH`` (a class submitting at once), and 0 when the queue is empty.

        A batch's results are stored in one transaction, so each course's completions are read
        and written once for all of them. The share keeps every thread busy to the end of a
        burst, and a lone submission is claimed alone, never kept waiting for others.
        """
        cap = max(1, int(self.app.config.get("LAB_BATCH", 16)))
        threads = self.workers * self.THREADS_PER_SLOT
        queued = submission_queue.queued_count(at_most=cap * threads)
        return min(cap, -(-queued // threads))

    def _loop(self) -> None:
        worker_id = tasks.worker_name("local")
        while not self._stopping.is_set():
            generation = self._generation
            did_work = False
            with self.app.app_context():
                try:
                    self._maybe_recover()
                    size = self._claim_size()
                    did_work = bool(size and tasks.work_next(worker_id, self._slots, size))
                except Exception:  # keep the thread alive; the row's lease brings it back
                    log.exception("lab worker %s failed", worker_id)
                    db.session.rollback()
                    time.sleep(self.poll_seconds)
                finally:
                    db.session.remove()
            if did_work:
                continue
            with self._cv:
                if generation == self._generation and not self._stopping.is_set():
                    self._cv.wait(timeout=self.poll_seconds)


_pool_lock = threading.Lock()


def local_pool(app: Flask, start: bool = True) -> LocalPool:
    """The app's pool, created (and started) on first use."""
    with _pool_lock:
        pool = app.extensions.get("virtual_labs.pool")
        if pool is None:
            pool = LocalPool(
                app,
                app.config.get("LAB_WORKERS") or 1,
                float(app.config.get("LAB_POLL_SECONDS", 1.0)),
            )
            app.extensions["virtual_labs.pool"] = pool
        if start and not pool.running:
            pool.start()
    return pool


def start_pool_on_first_request(app: Flask) -> None:
    """Start the local pool when a web process serves its first request (any page).

    Not in the app factory (CLI commands and tests build apps that must not grade), and not
    only on the next submission: after a restart the work left ``queued`` or ``running`` is
    taken up at once, and the learners waiting for it (whose pages poll) see it graded.
    """
    if app.config.get("LAB_EXECUTOR") != "local":
        return
    pool = app.extensions.get("virtual_labs.pool")
    if pool is None or not pool.started:
        local_pool(app)


def stop_local_pool(app: Flask) -> None:
    """Stop and forget the app's pool, if it has one."""
    pool = app.extensions.pop("virtual_labs.pool", None)
    if pool is not None:
        pool.stop()


class LocalExecutor:
    def __init__(self, app: Flask) -> None:
        self.app = app

    def dispatch(self, submission_id: int) -> None:
        """Wake the app's pool (started on first use): a thread claims the submission."""
        local_pool(self.app).wake()


def get_executor(app: Flask):
    """The executor named by ``LAB_EXECUTOR``."""
    name = app.config.get("LAB_EXECUTOR") or "local"
    if name == "inline":
        return InlineExecutor(app)
    if name == "celery":
        return CeleryExecutor(app)
    if name == "local":
        return LocalExecutor(app)
    raise ValueError(f"LAB_EXECUTOR must be one of {', '.join(EXECUTORS)}, not {name!r}.")


def dispatch_submission(app: Flask, submission_id: int) -> None:
    """Hand a committed, queued submission to the configured executor."""
    get_executor(app).dispatch(submission_id)


def run_worker(app: Flask, workers: int | None = None, echo=print) -> None:
    """A dedicated grading process (``flask labs worker``): the pool, until interrupted."""
    if workers:
        app.config["LAB_WORKERS"] = workers
    pool = local_pool(app)
    echo(
        f"Lab worker: grading queued submissions, {pool.workers} sandbox runs at a time. "
        "Ctrl+C stops."
    )
    try:
        while pool.running:
            time.sleep(1.0)
    except KeyboardInterrupt:
        echo("Stopping: running submissions finish first.")
    finally:
        stop_local_pool(app)
