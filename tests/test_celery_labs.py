"""Celery mode end to end: a real worker process, Redis on 127.0.0.1:6379, the test database.

Submissions go in through the web view (``LAB_EXECUTOR=celery``), a ``celery -A
virtual_labs.worker worker`` process grades them in the sandbox, and the results land in the
database. A worker killed with SIGKILL in the middle of a run loses nothing: the submission is
graded by the next worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.timeutil import utcnow
from tests.factories import enrol, make_course, make_lab, make_module, make_org, make_user
from virtual_labs.models import LabSubmission

pytestmark = [pytest.mark.celery, pytest.mark.sandbox]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
ROOT = Path(__file__).resolve().parent.parent
CELERY = str(Path(sys.executable).with_name("celery"))
TIMING = {
    "LAB_HEARTBEAT_SECONDS": 0.5,
    "LAB_STALE_SECONDS": 3.0,
    "LAB_CELERY_VISIBILITY_TIMEOUT": 6,
}
RIGHT = "a, b = map(int, input().split())\nprint(a + b)\n"
SLOW = "import time\ntime.sleep(4)\na, b = map(int, input().split())\nprint(a + b)\n"


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")


@pytest.fixture
def queue():
    """A queue of this test's own: a message a killed worker of another test left unacknowledged
    is restored to that test's queue, never delivered here."""
    name = f"labs-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    yield name
    import json

    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.delete(name)
    for tag, value in client.hgetall("unacked").items():
        if json.loads(value)[-1] == name:
            client.hdel("unacked", tag)


@pytest.fixture
def app_config(queue):
    return {
        "LAB_EXECUTOR": "celery",
        "CELERY_BROKER_URL": REDIS_URL,
        "LAB_CELERY_QUEUE": queue,
        **TIMING,
    }


@pytest.fixture
def world(app):
    _redis_or_skip()
    with app.app_context():
        org = make_org()
        learner = make_user(org=org)
        course = make_course(org)
        lab = make_lab(make_module(course), wall_s=10.0)
        enrol(learner, course)
        db.session.commit()
        return SimpleNamespace(lab_id=lab.id, email=learner.email, learner_id=learner.id)


class Workers:
    """Start and kill real Celery worker processes against the test database."""

    def __init__(self, database_url: str, instance_path: str, tmp_path: Path, queue: str) -> None:
        self.queue = queue
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "LMS_INSTANCE_PATH": instance_path,
            "LAB_EXECUTOR": "celery",
            "CELERY_BROKER_URL": REDIS_URL,
            "LAB_CELERY_QUEUE": queue,
            **{k: str(v) for k, v in TIMING.items()},
        }
        self.tmp_path = tmp_path
        self.procs: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        log = open(self.tmp_path / f"worker-{len(self.procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [CELERY, "-A", "virtual_labs.worker", "worker", "--pool=solo", "-Q", self.queue,
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info",
             "-n", f"labs-test-{len(self.procs)}@%h"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=5)

    def logs(self, tail: int = 3000) -> str:
        return "\n".join(p.read_text(errors="replace")[-tail:] for p in self.tmp_path.glob("*.log"))


@pytest.fixture
def workers(app, database_url, instance_path, tmp_path, queue):
    pool = Workers(database_url, instance_path, tmp_path, queue)
    yield pool
    pool.stop_all()


def rows(app) -> list[LabSubmission]:
    with app.app_context():
        result = db.session.scalars(select(LabSubmission).order_by(LabSubmission.id)).all()
        db.session.expunge_all()
        db.session.remove()
        return result


def wait_until(predicate, timeout: float, what: str, workers: Workers) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}\n--- worker logs ---\n{workers.logs()}")


def post(client, lab_id, code):
    return client.post(
        f"/labs/{lab_id}/submissions",
        data={"kind": "submit", "file:main.py": code},
        headers={"Accept": "application/json"},
    )


def test_celery_worker_grades_submissions_end_to_end(app, client, auth, world, workers):
    app.config["LAB_MAX_IN_FLIGHT"] = 5
    workers.start()
    auth.login(world.email)
    sent = [post(client, world.lab_id, code) for code in (RIGHT, "print(0)\n", RIGHT)]
    assert all(r.status_code == 202 for r in sent)
    wait_until(
        lambda: all(s.status == "done" for s in rows(app)), 90, "three graded submissions", workers
    )
    done = rows(app)
    assert [s.verdict for s in done] == ["accepted", "wrong_answer", "accepted"]
    assert all(s.worker_id.startswith("celery:") and s.attempts == 1 for s in done)
    data = client.get(f"/labs/submissions/{done[0].id}.json").get_json()
    assert data["done"] and data["score"] == 100 and "Small numbers" in data["html"]


def test_worker_killed_mid_run_leaves_the_submission_to_the_next_worker(
    app, client, auth, world, workers
):
    # The broker would only redeliver the unacknowledged message after ten minutes: the retry
    # must come from the live worker's sweep of expired database leases.
    workers.env["LAB_CELERY_VISIBILITY_TIMEOUT"] = "600"
    first = workers.start()
    auth.login(world.email)
    assert post(client, world.lab_id, SLOW).status_code == 202
    wait_until(lambda: rows(app)[0].status == "running", 60, "the run to start", workers)
    killed_worker = rows(app)[0].worker_id
    workers.kill(first)  # SIGKILL: no chance to acknowledge, requeue or clean up
    assert rows(app)[0].status == "running"
    workers.start()
    wait_until(lambda: rows(app)[0].status == "done", 90, "the retried submission", workers)
    sub = rows(app)[0]
    assert sub.verdict == "accepted" and sub.score == 100
    assert sub.attempts == 2 and sub.worker_id != killed_worker


def test_a_worker_start_sends_only_orphaned_submissions(app, client, auth, world, workers):
    """Three submissions wait in the broker, one never reached it (its web process died
    between commit and send): a starting worker sends that one only, and no task is skipped."""
    app.config["LAB_MAX_IN_FLIGHT"] = 5
    auth.login(world.email)
    assert all(post(client, world.lab_id, RIGHT).status_code == 202 for _ in range(3))
    with app.app_context():
        lost = LabSubmission(
            lab_id=world.lab_id,
            user_id=world.learner_id,
            files={"main.py": RIGHT},
            created_at=utcnow() - timedelta(minutes=5),
        )
        db.session.add(lost)
        db.session.commit()
    workers.start()
    wait_until(lambda: all(s.status == "done" for s in rows(app)), 90, "four graded", workers)
    # One more through the web: the queue is first in, first out and the worker takes one task
    # at a time, so once this one is graded every task sent before it has been handled.
    assert post(client, world.lab_id, RIGHT).status_code == 202
    wait_until(lambda: all(s.status == "done" for s in rows(app)), 90, "the last one", workers)
    done = rows(app)
    assert len(done) == 5 and all(s.verdict == "accepted" and s.attempts == 1 for s in done)
    log = workers.logs(tail=10**6)
    assert log.count("] received") == 5, log
    assert "'skipped'" not in log, log


def test_jobe_api_runs_on_the_celery_workers(app, client, world, workers):
    """A Jobe run goes to the labs' Celery workers and the request waits only for its result."""
    from virtual_labs.jobe import keys

    with app.app_context():
        _, secret = keys.issue_key("CodeRunner", 10, make_user(is_site_admin=True))
        db.session.commit()
    workers.start()
    spec = {"language_id": "python3", "sourcecode": "import os\nprint(input(), os.getpid() > 0)"}
    spec["input"] = "from a worker"
    response = client.post(
        "/jobe/index.php/restapi/runs", json={"run_spec": spec}, headers={"X-API-KEY": secret}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_json()
    assert (data["outcome"], data["stdout"]) == (15, "from a worker True\n"), workers.logs()
