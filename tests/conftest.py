"""Shared fixtures, as in Flask's tutorial: ``app``, ``client``, ``runner``, ``auth``.

The database is real: a SQLite file by default, PostgreSQL when ``TEST_DATABASE_URL`` is set
(each xdist worker gets its own database). The schema is created once per worker and every table
is emptied after each test, which keeps the suite fast on both.
"""

from __future__ import annotations

import gc
import os
import shutil
import socket
import sys
import tempfile
import threading

import pytest
from sqlalchemy import Integer, create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.routing.rules import Rule

from lms import create_app
from lms.extensions import db

REQUIRE_ALL = os.environ.get("REQUIRE_ALL") == "1"
_SCHEMA_READY: set[str] = set()


def _reuse_url_rule_builders() -> None:
    """Every test builds a new app, and compiling the URL builders of its ~1,200 routes was most
    of ``create_app``'s time. A builder is a pure function of the rule's text, its parsed parts,
    its defaults and the mode (it reads the rule's converters through its ``self`` argument at
    call time), so the test process compiles each one once and binds it to every app's rule."""
    original = getattr(Rule, "_compile_builder", None)
    if original is None:  # another Werkzeug: build them as it does
        return
    compiled: dict = {}

    def compile_builder(self, append_unknown: bool = True):
        key = (self.rule, tuple(self._trace), repr(sorted((self.defaults or {}).items())),
               append_unknown)  # fmt: skip
        if key not in compiled:
            compiled[key] = original(self, append_unknown)
        return compiled[key]

    Rule._compile_builder = compile_builder


_reuse_url_rule_builders()


def _reuse_entry_point_lookups() -> None:
    """``create_app`` asks importlib.metadata for the plugin and component entry points, which
    reads every installed distribution's metadata (~16 ms an app, more than the rest of the
    factory). The answer depends only on what is installed on ``sys.path``, so the test
    process keeps it per group and ``sys.path``: a test that installs a distribution in a
    directory it puts on ``sys.path`` (test_plugins_registry) gets a fresh lookup."""
    import lms.plugins

    original = lms.plugins.entry_points
    found: dict = {}

    def entry_points(**params):
        key = (tuple(sorted(params.items())), tuple(sys.path))
        if key not in found:
            found[key] = original(**params)
        return found[key]

    lms.plugins.entry_points = entry_points


_reuse_entry_point_lookups()


def _tune_garbage_collector() -> None:
    """Every test builds an app whose teardown leaves cyclic garbage, and a worker's heap grows
    to ~850k tracked objects: at CPython's default thresholds the full collections that keep
    rescanning it took ~15% of a worker's time. The modules imported so far live as long as the
    process, so they are frozen out of collection; collections run less often (memory per worker
    ~290 -> ~425 MB); garbage is still collected, in fewer and larger passes."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


_tune_garbage_collector()

#: Files whose tests take seconds each (crawls, fuzzing, a Celery worker, Chromium): collected
#: first, so xdist hands them out at the start and both workers finish their queues together,
#: instead of one worker drawing a 30-second test while the other has nothing left.
SLOW_FIRST = (
    "test_fuzz_forms.py",
    "test_crawl.py",
    "test_celery_labs.py",
    "test_browser_",
    "test_quiz_browser.py",
    "test_foundation_seed.py",
    "test_labs_recovery.py",
    "test_sandbox_",
)


def pytest_collection_modifyitems(config, items):
    """Slow files first (see SLOW_FIRST), otherwise the collected order; deterministic, so
    every xdist worker collects the same list."""

    def rank(item) -> int:
        name = item.path.name
        return next((i for i, prefix in enumerate(SLOW_FIRST) if name.startswith(prefix)),
                    len(SLOW_FIRST))  # fmt: skip

    items.sort(key=rank)


# --- markers: skips become failures under REQUIRE_ALL ------------------------------------------
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under REQUIRE_ALL=1 (CI) a skipped postgres/sandbox/browser/celery test fails the run."""
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_ALL and report.skipped:
        guarded = {"postgres", "sandbox", "browser", "celery"} & {
            m.name for m in item.iter_markers()
        }
        if guarded:
            report.outcome = "failed"
            report.longrepr = f"REQUIRE_ALL=1: a {', '.join(sorted(guarded))} test may not be skipped ({report.longrepr})"


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "gw0")


@pytest.fixture(scope="session")
def instance_path():
    path = tempfile.mkdtemp(prefix="lms-test-instance-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(instance_path):
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield "sqlite:///" + os.path.join(instance_path, f"test-{_worker()}.sqlite3")
        return
    from lms.config import normalise_database_url

    url = make_url(normalise_database_url(base))
    # One database per worker process: parallel workers (and parallel runs) never collide.
    name = f"{url.database}_{_worker()}_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def make_app(database_url: str, instance_path: str, **overrides):
    os.environ["LMS_INSTANCE_PATH"] = instance_path
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "WTF_CSRF_ENABLED": False,
        "LAB_EXECUTOR": "inline",
        "SERVER_NAME": None,
    }
    config.update(overrides)
    return create_app(config)


def _empty_all_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        # One round trip of DELETEs (children first): ~30x faster than TRUNCATE on the few rows
        # a test leaves, which matters with hundreds of tests. Ids are not reset: tests must not
        # rely on them.
        db.session.execute(text("; ".join(f'DELETE FROM "{t.name}"' for t in tables)))
        db.session.commit()
    else:
        # One script in one transaction, past SQLAlchemy's statement machinery: a third of the
        # time of ~90 separate DELETEs, after every test.
        _sqlite_script("".join(f'DELETE FROM "{t.name}";' for t in tables))


def _sqlite_script(script: str) -> None:
    """Run ``script`` in one transaction on a raw connection of the app's SQLite engine."""
    raw = db.engine.raw_connection()
    try:
        raw.driver_connection.executescript(f"BEGIN;{script}COMMIT;")
    finally:
        raw.close()


@pytest.fixture
def app_config():
    """Override per test module: ``@pytest.fixture def app_config(): return {...}``."""
    return {}


@pytest.fixture
def app(database_url, instance_path, app_config):
    app = make_app(database_url, instance_path, **app_config)
    with app.app_context():
        if database_url not in _SCHEMA_READY:
            db.drop_all()
            db.create_all()
            _SCHEMA_READY.add(database_url)
    yield app
    with app.app_context():
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, email: str = "student@uni.demo", password: str = "demo-pass-2026"):
        return self._client.post("/auth/login", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/auth/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


_DEMO_SNAPSHOTS: dict[str, dict[str, list[tuple]]] = {}
#: PostgreSQL keeps the seeded rows in a schema of its own (the database is this worker's).
SNAPSHOT_SCHEMA = "demo_snapshot"


def _take_snapshot() -> dict[str, list[tuple]]:
    """The rows of the freshly seeded database, as the driver returns them (no type
    processing on the way back); on PostgreSQL they are also copied server-side."""
    tables = db.metadata.sorted_tables
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(
            f'DROP SCHEMA IF EXISTS "{SNAPSHOT_SCHEMA}" CASCADE; CREATE SCHEMA "{SNAPSHOT_SCHEMA}"; '
            + "; ".join(f'CREATE TABLE "{SNAPSHOT_SCHEMA}"."{t.name}" AS TABLE "{t.name}"'
                        for t in tables)
        ))  # fmt: skip
        db.session.commit()
    return {
        table.name: [
            tuple(row) for row in db.session.execute(text(f'SELECT * FROM "{table.name}"'))
        ]
        for table in tables
    }


def _restore_snapshot(snapshot: dict[str, list[tuple]]) -> None:
    """Put the rows of the seeded database back, parents first, and move sequences on."""
    if db.engine.dialect.name == "postgresql":
        _restore_postgres_snapshot(snapshot)
        db.session.commit()
        return
    # SQLite: the stored values go back as they came, in one executemany a table on the raw
    # connection (~5 ms for the ~3,000 demo rows, against ~40 ms through the ORM's types).
    db.session.commit()
    raw = db.engine.raw_connection()
    try:
        connection = raw.driver_connection
        connection.execute("BEGIN")
        for table in db.metadata.sorted_tables:
            rows = snapshot.get(table.name)
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                connection.executemany(f'INSERT INTO "{table.name}" VALUES ({marks})', rows)
        connection.execute("COMMIT")
    finally:
        raw.close()


def _restore_postgres_snapshot(snapshot: dict[str, list[tuple]]) -> None:
    """One round trip: copy every table back from the snapshot schema, then set every sequence.

    Per-table INSERTs with the rows sent from Python and one setval per table cost ~100 ms a
    test on PostgreSQL; copying server-side costs a few. The course <-> cover attachment foreign
    keys form a cycle: load without FK triggers (session_replication_role)."""
    filled = [t for t in db.metadata.sorted_tables if snapshot.get(t.name)]
    sequences = [
        f"setval(pg_get_serial_sequence('\"{t.name}\"', 'id')::regclass, "
        f'(SELECT MAX(id) FROM "{t.name}"))'
        for t in filled
        if "id" in t.c and isinstance(t.c.id.type, Integer)
    ]
    statements = [
        "SET session_replication_role = replica",
        *(f'INSERT INTO "{t.name}" SELECT * FROM "{SNAPSHOT_SCHEMA}"."{t.name}"' for t in filled),
        "SET session_replication_role = DEFAULT",
    ]
    if sequences:
        statements.append("SELECT " + ", ".join(sequences))
    db.session.execute(text("; ".join(statements)))


@pytest.fixture
def demo(app):
    """The demo cluster (core organizations and accounts, plus every component's content).

    Seeding runs once per worker and database; later tests get the same rows back from a
    snapshot, which takes milliseconds instead of seconds.
    """
    from lms.seed import seed_demo

    with app.app_context():
        key = str(db.engine.url)
        snapshot = _DEMO_SNAPSHOTS.get(key)
        if snapshot is None:
            seed_demo(echo=lambda *_: None)
            _DEMO_SNAPSHOTS[key] = _take_snapshot()
        else:
            _restore_snapshot(snapshot)
    return app


# --- live server for browser tests --------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(app):
    """Serve ``app`` on a free port in a thread; yields the base URL."""
    from werkzeug.serving import make_server

    port = free_port()
    # Links in mails and certificates come from SITE_URL: here, the server the browser uses.
    app.config["SITE_URL"] = f"http://127.0.0.1:{port}"
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(timeout=5)


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    """A headless Debian Chromium driven by Playwright (never a downloaded browser)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    context.close()


def browser_login(page, email: str, password: str = "demo-pass-2026") -> None:
    page.goto("/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")
