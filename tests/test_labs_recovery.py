"""Crash recovery of the local executor: a real web process killed mid-run, then restarted.

The web process (``flask run`` with ``LAB_EXECUTOR=local``) grades in the real sandbox. It is
killed with SIGKILL while a submission runs and others wait; the next web process must take the
work up by itself (no learner submits again), remove the killed run's sandbox directory, and
the learner whose run was cut off must be able to submit again.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from lms.extensions import db
from tests.conftest import free_port
from tests.factories import make_lab_class
from virtual_labs import uidpool
from virtual_labs.models import LabSubmission

pytestmark = pytest.mark.sandbox

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).with_name("flask"))
RIGHT = "a, b = map(int, input().split())\nprint(a + b)\n"
WRONG = "print(0)\n"
STUCK = "import time\ntime.sleep(600)\n"


@pytest.fixture(autouse=True)
def _sandbox_required():
    from virtual_labs.sandbox import sandbox_status

    ok, message = sandbox_status()
    if not ok:
        pytest.skip(f"sandbox unavailable: {message}")


@pytest.fixture
def world(app):
    with app.app_context():
        _, lab, learners = make_lab_class()
        db.session.commit()
        return SimpleNamespace(
            lab_id=lab.id, ids=[u.id for u in learners], emails=[u.email for u in learners]
        )


class WebProcess:
    """``flask run`` against the test database, started and killed like a real deployment."""

    def __init__(self, database_url: str, instance_path: str, tmp_path: Path) -> None:
        # Pool users must traverse every parent of their work directory: not pytest's tmp_path.
        self.sandbox_dir = Path(tempfile.gettempdir()) / f"educluster-sandbox-{uuid.uuid4().hex}"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "LMS_INSTANCE_PATH": instance_path,
            "LAB_EXECUTOR": "local",
            "LAB_WORKERS": "1",
            "LAB_POLL_SECONDS": "0.2",
            "LAB_HEARTBEAT_SECONDS": "0.5",
            # Far beyond the waits below: a killed run must be taken back because its process
            # is dead, not because its lease ran out.
            "LAB_STALE_SECONDS": "600",
            "LAB_SANDBOX_DIR": str(self.sandbox_dir),
        }
        self.tmp_path = tmp_path
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> str:
        port = free_port()
        log = open(self.tmp_path / f"web-{self.starts}.log", "wb")  # noqa: SIM115
        self.starts += 1
        self.proc = subprocess.Popen(
            [FLASK, "--app", "app", "run", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: self._answers(url), 60, "the web process to answer", self)
        return url

    def _answers(self, url: str) -> bool:
        assert self.proc.poll() is None, self.logs()
        try:
            # Any first request (here the login page) is all a restarted process gets.
            with urllib.request.urlopen(f"{url}/auth/login", timeout=5) as response:
                return response.status == 200
        except OSError:
            return False

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)  # no chance to clean up or requeue
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        shutil.rmtree(self.sandbox_dir, ignore_errors=True)

    def work_dirs(self) -> list[str]:
        if not self.sandbox_dir.exists():
            return []
        return sorted(p.name for p in self.sandbox_dir.iterdir() if p.name.startswith("prep-"))

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in sorted(self.tmp_path.glob("web-*.log"))
        )


@pytest.fixture
def web(app, database_url, instance_path, tmp_path):
    process = WebProcess(database_url, instance_path, tmp_path)
    yield process
    process.stop()


def wait_until(predicate, timeout: float, what: str, web: WebProcess) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}\n--- web process logs ---\n{web.logs()}")


def rows(app) -> dict[int, LabSubmission]:
    with app.app_context():
        result = {s.id: s for s in db.session.scalars(select(LabSubmission))}
        db.session.expunge_all()
        db.session.remove()
        return result


def queue(app, world, files: list[str]) -> list[int]:
    """Submissions as the web view leaves them: queued rows (the database is the queue)."""
    with app.app_context():
        subs = [
            LabSubmission(lab_id=world.lab_id, user_id=uid, files={"main.py": code})
            for uid, code in zip(world.ids, files, strict=True)
        ]
        db.session.add_all(subs)
        db.session.commit()
        return [s.id for s in subs]


def test_a_restarted_web_process_grades_what_the_killed_one_left(app, client, auth, world, web):
    stuck, right, wrong = queue(app, world, [STUCK, RIGHT, WRONG])
    web.start()
    wait_until(
        lambda: rows(app)[stuck].status == "running" and web.work_dirs(),
        60,
        "the first run to start in the sandbox",
        web,
    )
    killed_worker = rows(app)[stuck].worker_id
    web.kill()
    before = rows(app)
    assert before[stuck].status == "running" and before[wrong].status in ("queued", "running")
    assert len(web.work_dirs()) == 1  # the killed run's directory is still there

    # The retry grades what the row holds; give the cut-off learner a program that ends.
    with app.app_context():
        db.session.get(LabSubmission, stuck).files = {"main.py": RIGHT}
        db.session.commit()
    web.start()  # nobody submits: the first request of the new process is a login page
    wait_until(
        lambda: all(s.status == "done" for s in rows(app).values()),
        120,
        "the left-over submissions to be graded",
        web,
    )
    after = rows(app)
    assert after[stuck].verdict == "accepted", (after[stuck].error, after[stuck].report, web.logs())
    assert after[stuck].attempts == 2
    assert after[stuck].worker_id != killed_worker
    assert after[right].verdict == "accepted" and after[wrong].verdict == "wrong_answer"
    assert web.work_dirs() == []  # the killed run's directory went with the recovery
    assert not [p for p in (web.sandbox_dir / "locks").iterdir() if p.name.startswith("prep-")]

    # The learner whose run was cut off is no longer "still being checked".
    auth.login(world.emails[0])
    again = client.post(
        f"/labs/{world.lab_id}/submissions",
        data={"kind": "submit", "file:main.py": RIGHT},
        headers={"Accept": "application/json"},
    )
    assert again.status_code == 202, again.get_data(as_text=True)


def test_work_dirs_of_a_killed_process_are_removed_and_live_ones_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("LAB_SANDBOX_DIR", str(tmp_path / "sandbox"))
    monkeypatch.setattr(uidpool, "_base_ready", None)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom virtual_labs import uidpool\n"
         "print(uidpool.make_work_dir('prep-').path, flush=True)\ntime.sleep(600)\n"],
        cwd=ROOT, stdout=subprocess.PIPE, env={**os.environ},
    )  # fmt: skip
    try:
        dead = Path(holder.stdout.readline().decode().strip())
        live = uidpool.make_work_dir("extra-", 0o755)
        assert dead.is_dir() and uidpool.remove_abandoned_work() == 0  # both owners alive
        holder.kill()
        holder.wait(timeout=10)
        assert uidpool.remove_abandoned_work() == 1
        assert not dead.exists() and Path(live.path).is_dir()
        assert not (dead.parent / "locks" / f"{dead.name}.lock").exists()
        live.remove()
        assert not Path(live.path).exists()
    finally:
        holder.kill()
        holder.wait(timeout=10)
        holder.stdout.close()
