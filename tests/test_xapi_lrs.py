"""The LRS outbox against a real LRS: ralph (``ralph runserver -b fs``), started by the test.

The LRS is stopped to prove the outbox holds (the flush fails, nothing is lost), restarted, and
every statement must then be stored exactly once, including one we re-send on purpose.

One adjustment to ralph 5.0.1: its file-system LRS backend writes every POST with the default
"create" mode, which refuses to touch an existing file, so only the *first* POST of a server's
life can be stored (later ones answer 500 "bulk indexation failed"). A real deployment uses a
database backend. Here we serve ralph's own ASGI app (``ralph.api:app``, what ``ralph runserver
-b fs`` starts, minus its auto-reloader) with uvicorn after setting that backend's default write
mode to "append" (:data:`BOOT`). Everything else (HTTP API, Basic auth, the duplicate-id check
that answers 409, the query API, the JSON-lines file) is ralph's own code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import select, update

from lms.extensions import db
from lms.timeutil import utcnow
from lms.xapi.lrs import flush_outbox, pending_count
from lms.xapi.models import XapiStatement
from tests.conftest import free_port
from tests.trust_helpers import cluster, complete, graded_course

RALPH = Path(sys.executable).parent / "ralph"
USER, PASSWORD = "educluster", "lrs-test-secret"
PORT = free_port()


BOOT = (
    "import sys\n"
    "import uvicorn\n"
    "from ralph.backends.data.base import BaseOperationType\n"
    "from ralph.backends.lrs.fs import FSLRSBackend\n"
    "FSLRSBackend.default_operation_type = BaseOperationType.APPEND\n"
    "uvicorn.run('ralph.api:app', host='127.0.0.1', port=int(sys.argv[1]), log_level='info')\n"
)


class Ralph:
    """A ralph LRS with the file-system backend in ``root``."""

    def __init__(self, root: Path) -> None:
        self.root, self.process = root, None
        (root / "data").mkdir(exist_ok=True)
        self.env = {
            **os.environ,
            "RALPH_APP_DIR": str(root / "app"),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_BACKENDS__DATA__FS__DEFAULT_DIRECTORY_PATH": str(root / "data"),
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(root / "data"),
        }
        self.url = f"http://127.0.0.1:{PORT}/xAPI/"

    def create_user(self) -> None:
        subprocess.run(
            [str(RALPH), "auth", "-u", USER, "-p", PASSWORD, "-s", "all",
             "-M", "mailto:lrs@educluster.org", "-w"],
            env=self.env, check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", BOOT, str(PORT)],
            env=self.env,
            cwd=self.root,
            stdout=open(self.root / "ralph.log", "ab"),  # noqa: SIM115  (closed with the process)
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.get().status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError("ralph did not start within 30 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def get(self, **params) -> requests.Response:
        return requests.get(
            self.url + "statements",
            params={"limit": 500, **params},
            auth=(USER, PASSWORD),
            headers={"X-Experience-API-Version": "1.0.3"},
            timeout=5,
        )

    def stored_ids(self) -> list[str]:
        """Every statement id in the backend's file, duplicates included."""
        ids = []
        for path in (self.root / "data").glob("*.jsonl"):
            ids += [json.loads(line)["id"] for line in path.read_text().splitlines() if line]
        return ids


@pytest.fixture
def ralph(tmp_path):
    assert RALPH.exists(), "ralph-malph[cli,lrs] is a dev dependency: pip install -e .[dev]"
    lrs = Ralph(tmp_path)
    lrs.create_user()
    lrs.start()
    yield lrs
    lrs.stop()


@pytest.fixture
def app_config():
    # app_config is read before the ralph fixture starts; the port is fixed per module.
    return {
        "LRS_ENDPOINT": f"http://127.0.0.1:{PORT}/xAPI/",
        "LRS_USERNAME": USER,
        "LRS_PASSWORD": PASSWORD,
        "XAPI_VALIDATE": True,
    }


def _our_ids() -> set[str]:
    return set(db.session.scalars(select(XapiStatement.id)))


def test_outbox_delivers_exactly_once_across_an_lrs_outage(app, runner, ralph):
    with app.app_context():
        people = cluster()
        complete(people["employee"], people["course"])
        db.session.commit()
        first = _our_ids()
        result = flush_outbox()
        assert (result.sent, result.failed, result.pending) == (len(first), 0, 0)
        assert {s["id"] for s in ralph.get().json()["statements"]} == first

        # The LRS goes down; learning goes on.
        ralph.stop()
        course = graded_course([people["acme"]], title="Lean basics")
        complete(people["employee2"], course, grade=55)  # fails the quiz
        complete(people["employee2"], course, grade=75)
        db.session.commit()
        second = _our_ids() - first
        assert second
        result = flush_outbox()
        assert result.sent == 0 and "unreachable" in result.error
        assert pending_count() == len(second)  # held, not lost
        assert all(
            r.attempts == 1 and r.sent_at is None
            for r in db.session.scalars(select(XapiStatement).where(XapiStatement.id.in_(second)))
        )

    # Back up: the cron command retries (--now skips the backoff) and delivers the rest.
    ralph.start()
    cli = runner.invoke(args=["progress", "xapi-flush", "--now"])
    assert cli.exit_code == 0, cli.output
    assert f"Sent {len(second)}, failed 0, pending 0" in cli.output

    with app.app_context():
        # A crash after the LRS stored a statement but before we recorded it: it is re-sent and
        # the LRS recognises the id (204 for an identical statement); it counts as delivered.
        some, other = sorted(first)[:2]
        db.session.execute(
            update(XapiStatement).where(XapiStatement.id == some).values(sent_at=None)
        )
        # An id the LRS holds with different content answers 409: delivered too, never duplicated.
        row = db.session.get(XapiStatement, other)
        data = row.data
        data["timestamp"] = "2020-01-01T00:00:00.000Z"
        row.statement, row.sent_at = json.dumps(data), None
        db.session.commit()
        assert flush_outbox().sent == 2
        assert pending_count() == 0
        everything = _our_ids()
        assert all(
            r.sent_at is not None and r.sent_at <= utcnow()
            for r in db.session.scalars(select(XapiStatement))
        )

    served = [s["id"] for s in ralph.get().json()["statements"]]
    assert sorted(served) == sorted(everything)  # every statement, once
    stored = ralph.stored_ids()
    assert len(stored) == len(set(stored)) == len(everything)
    assert set(stored) == everything
