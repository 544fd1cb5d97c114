"""Benchmark (c) of ``bench/labs.py``: N submissions through the whole pipeline.

enqueue (rows in the database queue) -> local worker pool (one thread per core) -> sandbox ->
grade -> result stored and the grade recorded for completion. The figure is wall time from the
first enqueue to the last stored result, so it includes every database round trip.

It builds its own app on a scratch SQLite database (or ``BENCH_DATABASE_URL``), never the site's.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import func, select

PROGRAM = 'print("hello, world")\n'


def _build_world(db, learners: int) -> tuple[int, list[int]]:
    from lms.domain.models import Course, CoursePartner, Enrolment, Module
    from lms.models import Membership, Organization, User
    from virtual_labs.models import Lab, LabTest

    org = Organization(slug="bench", name="Bench", kind="research")
    users = [User(email=f"bench{i}@example.test", name=f"Learner {i}") for i in range(learners)]
    db.session.add_all([org, *users])
    db.session.flush()
    db.session.add_all(
        Membership(user_id=u.id, organization_id=org.id, role="learner") for u in users
    )
    course = Course(slug="bench", title="Bench course", status="published")
    db.session.add(course)
    db.session.flush()
    db.session.add(CoursePartner(course_id=course.id, organization_id=org.id))
    module = Module(course_id=course.id, title="Bench", position=0)
    db.session.add(module)
    db.session.flush()
    lab = Lab(
        course_id=course.id,
        module_id=module.id,
        title="Hello",
        language="python",
        starter_files={"main.py": ""},
        reference_files={"main.py": PROGRAM},
        completion_rule="passed",
        pass_mark=100.0,
    )
    lab.tests = [LabTest(name="Greets", stdin="", expected="hello, world\n", position=0)]
    # A second required activity, as in a real course: a passed lab completes the activity
    # (progress, xAPI) but not the whole course (certificates) at every submission.
    other = Lab(
        course_id=course.id,
        module_id=module.id,
        title="Next lab",
        language="python",
        reference_files={"main.py": PROGRAM},
        completion_rule="passed",
        position=1,
    )
    db.session.add_all([lab, other])
    db.session.add_all(Enrolment(user_id=u.id, course_id=course.id, status="active") for u in users)
    db.session.commit()
    return lab.id, [u.id for u in users]


def bench_pipeline(n: int, workers: int | None = None, kind: str = "submit") -> dict:
    """Grade ``n`` submissions with the local executor; ``runs``, ``seconds`` and a note.

    ``kind="submit"`` (default) records each grade as a learning event (completion, xAPI, as
    in production); ``kind="run"`` stops at the stored result, isolating the lab pipeline.
    """
    from scratch import scratch_instance

    with scratch_instance("labs-bench-") as scratch:
        return _measure(n, workers, kind, scratch)


def _measure(n: int, workers: int | None, kind: str, scratch: Path) -> dict:
    """:func:`bench_pipeline` in the scratch instance folder ``scratch``."""
    from lms import create_app
    from lms.extensions import db
    from virtual_labs.executors import LocalPool, local_pool, stop_local_pool
    from virtual_labs.models import LabSubmission

    workers = workers or os.cpu_count() or 1
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{scratch / 'bench.sqlite3'}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "LAB_EXECUTOR": "local",
            "LAB_WORKERS": workers,
            "LAB_POLL_SECONDS": 0.05,
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        # One submission per learner, as in class: the rate limit allows one in flight each.
        lab_id, user_ids = _build_world(db, n)
    pool = local_pool(app)  # started before the clock: a web process keeps it running
    try:
        with app.app_context():
            started = time.perf_counter()
            db.session.add_all(
                LabSubmission(lab_id=lab_id, user_id=user_id, files={"main.py": PROGRAM}, kind=kind)
                for user_id in user_ids
            )
            db.session.commit()
        for _ in range(workers):
            pool.wake()
        while True:
            with app.app_context():
                left = db.session.scalar(
                    select(func.count(LabSubmission.id)).where(
                        LabSubmission.status.in_(("queued", "running"))
                    )
                )
                db.session.remove()
            if not left:
                break
            time.sleep(0.05)  # coarse polling: the benchmark must not take the workers' CPU
        seconds = time.perf_counter() - started
        with app.app_context():
            accepted = db.session.scalar(
                select(func.count(LabSubmission.id)).where(LabSubmission.verdict == "accepted")
            )
    finally:
        stop_local_pool(app)
    with app.app_context():
        db.drop_all()
    if accepted != n:
        raise RuntimeError(f"only {accepted} of {n} pipeline submissions were accepted")
    dialect = url.split(":", 1)[0]
    return {
        "runs": n,
        "seconds": seconds,
        "note": (
            f"(local executor: {workers} sandbox slots x {LocalPool.THREADS_PER_SLOT} threads, "
            f"{dialect}, kind={kind})"
        ),
    }
