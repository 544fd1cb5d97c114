"""The submissions queue and the executors: atomic claims, leases, crash recovery, local pool."""

from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.progress.models import ActivityCompletion
from lms.timeutil import utcnow
from tests.factories import enrol, make_course, make_lab, make_module, make_org, make_user
from virtual_labs import executors, jobs, submission_queue, tasks
from virtual_labs.models import LabSubmission

RIGHT = {"main.py": "a, b = map(int, input().split())\nprint(a + b)\n"}
WRONG = {"main.py": "print(0)\n"}


@pytest.fixture
def world(app):
    with app.app_context():
        org = make_org()
        learner = make_user(org=org)
        course = make_course(org)
        lab = make_lab(make_module(course))
        enrol(learner, course)
        db.session.commit()
        return SimpleNamespace(lab_id=lab.id, learner_id=learner.id, email=learner.email)


def add_submission(world, files=RIGHT, **kw) -> int:
    sub = LabSubmission(lab_id=world.lab_id, user_id=world.learner_id, files=files, **kw)
    db.session.add(sub)
    db.session.commit()
    return sub.id


def wait_for(predicate, timeout=30.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def test_a_submission_is_claimed_by_one_worker_only(app, world):
    with app.app_context():
        sub_id = add_submission(world)
        assert submission_queue.claim_submission(sub_id, "worker-a")
        assert not submission_queue.claim_submission(sub_id, "worker-b")
        db.session.commit()
        sub = db.session.get(LabSubmission, sub_id)
        assert (sub.status, sub.worker_id, sub.attempts) == ("running", "worker-a", 1)
        assert submission_queue.claim_batch("worker-c", 1) == []  # nothing left in the queue


def test_a_claim_takes_the_oldest_queued_submission(app, world):
    with app.app_context():
        first = add_submission(world)
        second = add_submission(world)
        add_submission(world, status="done")
        assert submission_queue.claim_batch("w", 1) == [first]
        assert submission_queue.claim_batch("w", 1) == [second]
        assert submission_queue.claim_batch("w", 1) == []


def test_recover_stale_requeues_dead_runs_and_gives_up_after_max_attempts(app, world):
    app.config.update(LAB_STALE_SECONDS=30, LAB_MAX_ATTEMPTS=3)
    old = utcnow() - timedelta(minutes=5)
    with app.app_context():
        stale = add_submission(
            world, status="running", worker_id="dead", heartbeat_at=old, attempts=1
        )
        fresh = add_submission(
            world, status="running", worker_id="alive", heartbeat_at=utcnow(), attempts=1
        )
        exhausted = add_submission(
            world, status="running", worker_id="dead", heartbeat_at=old, attempts=3
        )
        assert submission_queue.recover_stale() == (1, 1)
        db.session.commit()
        rows = {s.id: s for s in db.session.scalars(select(LabSubmission))}
        assert rows[stale].status == "queued" and rows[stale].worker_id is None
        assert rows[fresh].status == "running"
        assert rows[exhausted].status == "error" and "stopped 3 times" in rows[exhausted].error


def test_a_worker_that_lost_its_lease_does_not_store_a_result(app, world):
    app.config["LAB_STALE_SECONDS"] = 30
    with app.app_context():
        sub_id = add_submission(world)
        assert submission_queue.claim_submission(sub_id, "slow")
        db.session.get(LabSubmission, sub_id).heartbeat_at = utcnow() - timedelta(minutes=5)
        db.session.commit()
        # The slow worker went silent: another one takes the submission over.
        assert submission_queue.claim_submission(sub_id, "rescuer")
        db.session.commit()
        report = {"verdict": "accepted", "score": 100.0, "tests": [], "compile_output": ""}
        (job,) = jobs.load_jobs([sub_id])
        assert jobs.store_results("slow", [jobs.Outcome(job, report)]) == [False]
        assert jobs.store_results("rescuer", [jobs.Outcome(job, report)]) == [True]
        db.session.commit()
        sub = db.session.get(LabSubmission, sub_id)
        assert (sub.status, sub.attempts, sub.counted) == ("done", 2, True)
        # The grade is recorded once, by the worker that holds the lease.
        assert db.session.scalar(select(ActivityCompletion)).attempts == 1


def test_grader_failure_marks_the_submission_as_error(app, world, monkeypatch):
    def broken(job):
        raise RuntimeError("box exploded")

    monkeypatch.setattr(jobs, "grade_job", broken)
    with app.app_context():
        sub_id = add_submission(world)
        assert tasks.execute_submission(sub_id, "w") == "done"
        sub = db.session.get(LabSubmission, sub_id)
        assert sub.status == "error" and sub.verdict == "sandbox_error"
        assert "grader failed" in sub.error
        assert tasks.execute_submission(sub_id, "w") == "skipped"  # finished work is not redone


def test_unknown_executor_is_refused(app):
    app.config["LAB_EXECUTOR"] = "threads"
    with pytest.raises(ValueError, match="LAB_EXECUTOR must be one of"):
        executors.get_executor(app)


def test_requeue_command_recovers_stale_runs(app, runner, world):
    with app.app_context():
        add_submission(world, status="running", heartbeat_at=utcnow() - timedelta(hours=1))
    result = runner.invoke(args=["labs", "requeue"])
    assert result.exit_code == 0 and "Requeued 1 stale submissions" in result.output


@pytest.mark.sandbox
def test_local_pool_recovers_crashed_work_and_grades_the_queue(app, world):
    """A restart finds one submission left running by a dead worker and two queued ones."""
    app.config.update(LAB_EXECUTOR="local", LAB_WORKERS=2, LAB_STALE_SECONDS=30)
    with app.app_context():
        crashed = add_submission(
            world,
            status="running",
            worker_id="local:dead-host:1:1",
            heartbeat_at=utcnow() - timedelta(minutes=10),
            attempts=1,
        )
        queued = [add_submission(world, kind="submit"), add_submission(world, files=WRONG)]
    pool = executors.local_pool(app)  # start(): recover_stale() first, then the threads
    try:
        assert pool.running and pool.workers == 2

        def all_done():
            with app.app_context():
                rows = db.session.scalars(select(LabSubmission)).all()
                done = all(s.status == "done" for s in rows)
                db.session.remove()
                return done

        assert wait_for(all_done, timeout=60)
    finally:
        executors.stop_local_pool(app)
    with app.app_context():
        rows = {s.id: s for s in db.session.scalars(select(LabSubmission))}
        assert rows[crashed].verdict == "accepted" and rows[crashed].attempts == 2
        assert rows[queued[0]].verdict == "accepted"
        assert rows[queued[1]].verdict == "wrong_answer"
        assert all(s.worker_id.startswith("local:") for s in rows.values())


@pytest.mark.sandbox
def test_submitting_with_the_local_executor_queues_then_reports(
    app, client, auth, world, monkeypatch
):
    import threading

    app.config.update(LAB_EXECUTOR="local", LAB_WORKERS=1, LAB_POLL_SECONDS=0.2)
    answered = threading.Event()
    real_grade = jobs.grade_job

    def grade_after_the_response(job):
        answered.wait(timeout=10)  # the request must not wait for grading
        return real_grade(job)

    monkeypatch.setattr(jobs, "grade_job", grade_after_the_response)
    auth.login(world.email)
    try:
        resp = client.post(
            f"/labs/{world.lab_id}/submissions",
            data={"kind": "submit", "file:main.py": RIGHT["main.py"]},
            headers={"Accept": "application/json"},
        )
        answered.set()
        assert resp.status_code == 202
        data = resp.get_json()
        assert not data["done"] and data["status"] in ("queued", "running")
        seen = {data["status"]}
        deadline = time.monotonic() + 60
        while not data["done"] and time.monotonic() < deadline:
            time.sleep(0.2)
            data = client.get(data["json_url"]).get_json()
            seen.add(data["status"])
        assert data["done"] and data["verdict"] == "accepted" and data["score"] == 100
        assert seen & {"queued", "running"}  # the status was live, not graded in the request
        assert "Small numbers" in data["html"]
    finally:
        executors.stop_local_pool(app)
    with app.app_context():
        assert db.session.scalar(select(ActivityCompletion)).completed


def test_storing_a_result_is_retried_after_a_write_conflict(app, world, monkeypatch):
    """Two workers recording a learner's first grade at once collide on the completion row
    (unique user+activity): the loser's transaction is rolled back and stored again."""
    from sqlalchemy.exc import IntegrityError

    real_store = jobs.store_results
    calls = []

    def conflicting_once(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            real_store(*args, **kwargs)
            raise IntegrityError("INSERT INTO activity_completions", {}, Exception("duplicate"))
        return real_store(*args, **kwargs)

    monkeypatch.setattr(jobs, "grade_job", lambda job: {
        "verdict": "accepted", "score": 100.0, "tests": [], "compile_output": ""
    })  # fmt: skip
    monkeypatch.setattr(jobs, "store_results", conflicting_once)
    with app.app_context():
        sub_id = add_submission(world)
        assert tasks.execute_submission(sub_id, "w") == "done"
        assert len(calls) == 2
        sub = db.session.get(LabSubmission, sub_id)
        assert sub.status == "done" and sub.counted
        assert db.session.scalar(select(ActivityCompletion)).attempts == 1
