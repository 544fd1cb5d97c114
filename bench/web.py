"""Learner pages under load (prints a table; not a test): ``python bench/web.py``.

One command, loopback only, everything it starts it stops:

1. creates a scratch PostgreSQL database (``bench_web_<pid>``, on the server of ``--database``,
   default ``postgresql://postgres@127.0.0.1:5432/test``), builds the schema and seeds the demo
   cluster (the co-designed Python course: lessons, a timed quiz, a lab), then gives the learner
   some history (every lesson opened several times, a finished quiz attempt);
2. in-process, with Flask's test client on the same database: SQL statements per request (a
   ``before_cursor_execute`` listener) and the median ms per request, for ``/healthz`` and every
   learner page (course, lesson, quiz start page, quiz attempt, lab page, My learning, dashboard,
   catalog);
3. starts ``gunicorn -w 2`` on a free loopback port, logs the learner in over HTTP and measures
   requests/s for each page with ``wrk`` (Debian's package, 8 connections) or, without it, a
   bounded loop of 8 Python threads; prints the ratio to ``/healthz`` of the same run;
4. stops gunicorn and drops the scratch database.

Issue #13's target: at most 10 SQL statements per learner page, constant in the size of the
course and the learner's history, and at least 0.4x the requests/s of ``/healthz``.
The machine may be shared: compare the ratios of one run, not absolute figures across runs.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LEARNER = "student@uni.demo"
PASSWORD = "demo-pass-2026"
COURSE = "python-for-production-data"
CONNECTIONS = 8
# Flask-Login's strong session protection ties the session to the client's address and agent:
# every client of this script presents the same agent.
AGENT = "bench-web"


def _scratch_database(base_url: str) -> tuple[str, str]:
    """Create ``bench_web_<pid>`` next to ``base_url``'s database; return (its URL, its name)."""
    import psycopg

    name = f"bench_web_{os.getpid()}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(path=f"/{name}")), name


def _drop_database(base_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(app) -> dict[str, str]:
    """The demo cluster plus some learner history; returns the learner pages' paths."""
    from sqlalchemy import select

    from lms.domain.models import Activity, Course
    from lms.extensions import db
    from lms.seed import seed_demo

    with app.app_context():
        db.create_all()
        seed_demo(echo=lambda *_: None)
        db.session.commit()
        course = db.session.scalar(select(Course).where(Course.slug == COURSE))
        acts = [a for m in course.modules for a in m.activities]
        by_type: dict[str, Activity] = {}
        for act in acts:
            by_type.setdefault(act.type, act)
        lessons = [a.id for a in acts if a.type == "lesson"]
        ids = {k: v.id for k, v in by_type.items()}
    client = app.test_client()
    client.post("/auth/login", data={"email": LEARNER, "password": PASSWORD})
    for _ in range(3):  # history: every lesson opened a few times
        for lesson in lessons:
            client.get(f"/courses/{COURSE}/activities/{lesson}")
    # A finished attempt (history), then the open one the attempt page shows.
    done = client.post(f"/quiz/{ids['quiz']}/start")
    client.post(urlsplit(done.headers["Location"]).path + "/submit")
    opened = client.post(f"/quiz/{ids['quiz']}/start")
    return {
        "/healthz": "/healthz",
        "course page": f"/courses/{COURSE}",
        "lesson page": f"/courses/{COURSE}/activities/{ids['lesson']}",
        "quiz start page": f"/courses/{COURSE}/activities/{ids['quiz']}",
        "quiz attempt": urlsplit(opened.headers["Location"]).path,
        "lab page": f"/courses/{COURSE}/activities/{ids['lab']}",
        "My learning": "/learning",
        "dashboard": "/dashboard",
        "catalog": "/courses/",
        # Not a learner page: the cheapest signed-in page (a form, no course), the floor any
        # signed-in page starts from (session user, top bar, notifications badge, layout).
        "(floor) account": "/auth/account",
    }


def measure_in_process(app, pages: dict[str, str], repeat: int) -> dict[str, dict[str, float]]:
    """Per page: SQL statements and median ms of ``repeat`` requests, each rendered (the page
    store emptied first) and kept (served from the store)."""
    from sqlalchemy import event

    from lms.extensions import db
    from lms.pagecache import STORE

    client = app.test_client()
    answer = client.post("/auth/login", data={"email": LEARNER, "password": PASSWORD})
    client.get(answer.headers["Location"])  # shows the welcome message, as a browser does
    with app.app_context():
        engine = db.engine
    store = app.extensions[STORE]
    counter = {"n": 0}
    me = threading.get_ident()

    def count(*_args, **_kw):
        # Only this thread's requests: the local lab pool's threads poll the queue meanwhile.
        if threading.get_ident() == me:
            counter["n"] += 1

    def one(path: str, label: str, empty: bool) -> tuple[int, float]:
        if empty:
            store.clear()
        counter["n"] = 0
        started = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{label} {path}: HTTP {response.status_code}")
        return counter["n"], elapsed

    event.listen(engine, "before_cursor_execute", count)
    figures = {}
    try:
        for label, path in pages.items():
            client.get(path)  # warm-up (templates, caches, a first view recorded)
            row = {}
            for mode, empty in (("render", True), ("kept", False)):
                runs = [one(path, label, empty) for _ in range(repeat + 1)]
                row[f"sql {mode}"] = runs[-1][0]
                row[f"ms {mode}"] = statistics.median(t for _, t in runs[1:]) * 1000
            figures[label] = row
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return figures


class Server:
    """``gunicorn -w 2 app:app`` on a loopback port, started and stopped here."""

    def __init__(self, env: dict[str, str], workers: int = 2, threads: int = 1):
        self.port = _free_port()
        self.bind = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.bind}"
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (kept open while the server runs)
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.proc = subprocess.Popen(
            # More than one thread per worker makes it gunicorn's gthread worker.
            [
                str(gunicorn),
                "-w",
                str(workers),
                "--threads",
                str(threads),
                "-b",
                self.bind,
                "app:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait()

    def _wait(self) -> None:
        import requests

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError("gunicorn exited:\n" + self.log.read().decode()[-2000:])
            try:
                if requests.get(self.url + "/healthz", timeout=10).ok:
                    return
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def stop(self) -> None:
        """Stop the master (it stops its workers) and wait for it."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def login_cookie(base_url: str) -> str:
    """Log the learner in through the login form; the ``Cookie`` header of the session."""
    import requests

    session = requests.Session()
    session.headers["User-Agent"] = AGENT
    form = session.get(base_url + "/auth/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    data = {"email": LEARNER, "password": PASSWORD}
    if token:
        data["csrf_token"] = token[1]
    answer = session.post(base_url + "/auth/login", data=data, allow_redirects=False)
    if answer.status_code != 302:
        raise RuntimeError(f"login over HTTP failed: HTTP {answer.status_code}")
    # As a browser does: open the page it is sent to, which shows (and so clears) the welcome
    # message; the cookie the load tool replays is the session after that page.
    session.get(urljoin(base_url, answer.headers["Location"]), allow_redirects=False)
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def throughput_wrk(url: str, cookie: str, seconds: float) -> tuple[float, int]:
    """Requests/s and non-2xx/3xx answers, by ``wrk`` with 2 threads and 8 connections."""
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{seconds:g}s",
            "-H",
            f"Cookie: {cookie}",
            "-H",
            f"User-Agent: {AGENT}",
            url,
        ],  # fmt: skip
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return rate, (int(bad[1]) if bad else 0) + (1 if errors else 0)


def throughput_python(url: str, cookie: str, seconds: float) -> tuple[float, int]:
    """The same with 8 Python threads looping for ``seconds`` (when wrk is not installed)."""
    import requests

    stop = time.monotonic() + seconds
    headers = {"Cookie": cookie, "User-Agent": AGENT}
    done, bad = [0], [0]
    lock = threading.Lock()

    def loop() -> None:
        session = requests.Session()
        n = b = 0
        while time.monotonic() < stop:
            r = session.get(url, headers=headers, allow_redirects=False)
            n += 1
            b += r.status_code != 200
        with lock:
            done[0] += n
            bad[0] += b

    started = time.monotonic()
    threads = [threading.Thread(target=loop) for _ in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done[0] / (time.monotonic() - started), bad[0]


def load_pages(env: dict[str, str], pages: dict[str, str], args, keep: bool) -> dict:
    """Start gunicorn (pages kept, or rendered every time), load each page, stop it."""
    import requests

    env = {**env, "PAGE_CACHE_SECONDS": "60" if keep else "0"}
    server = Server(env, args.workers, args.threads)
    try:
        cookie = login_cookie(server.url)
        load = throughput_wrk if args.use_wrk else throughput_python
        rates = {}
        for label, path in pages.items():
            warm = requests.Session()
            for _ in range(4):  # both workers: templates compiled, connections open
                answer = warm.get(
                    server.url + path,
                    headers={"Cookie": cookie, "User-Agent": AGENT},
                    timeout=30,
                    allow_redirects=False,
                )
                if answer.status_code != 200:
                    raise RuntimeError(f"gunicorn: {path}: HTTP {answer.status_code}")
            rates[label] = load(server.url + path, cookie, args.seconds)
        return rates
    finally:
        server.stop()


def print_table(args, pages, in_process, rates) -> None:
    """The table: SQL, ms and requests/s of each page rendered and kept, and the targets."""
    tool = f"wrk, {CONNECTIONS} connections" if args.use_wrk else f"{CONNECTIONS} Python threads"
    print(
        f"Learner pages: PostgreSQL, gunicorn -w {args.workers} --threads {args.threads}, "
        f"{os.cpu_count()} cores, {tool}, {args.seconds:g} s per page and mode "
        f"(load average {os.getloadavg()[0]:.1f}); 'render': every request renders the page, "
        "'kept': the learner's page is served from the page store while it is current"
    )
    print(
        f"{'':18} {'SQL':>11} {'ms (client)':>15} {'req/s':>13} {'vs /healthz':>13} {'errors':>7}"
    )
    print(f"{'page':18} {'render kept':>11} {'render  kept':>15} {'render  kept':>13} "
          f"{'render  kept':>13}")  # fmt: skip
    base = {mode: rates[mode]["/healthz"][0] for mode in rates}
    for label in pages:
        row = in_process[label]
        (r_rate, r_bad), (k_rate, k_bad) = rates["render"][label], rates["kept"][label]
        print(
            f"{label:18} {row['sql render']:6d} {row['sql kept']:4d} "
            f"{row['ms render']:8.1f} {row['ms kept']:6.1f} {r_rate:7.0f} {k_rate:5.0f} "
            f"{r_rate / base['render']:7.2f} {k_rate / base['kept']:5.2f} {r_bad + k_bad:7d}"
        )
    learner = [k for k in pages if k != "/healthz" and not k.startswith("(floor)")]
    most = max(in_process[k]["sql render"] for k in learner)
    worst = {m: min(rates[m][k][0] for k in learner) / base[m] for m in rates}
    print(
        f"targets: every learner page <= 10 SQL (worst {most} rendered), >= 0.4x /healthz "
        f"(worst {worst['render']:.2f}x rendered, {worst['kept']:.2f}x kept)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--seconds", type=float, default=5.0, help="load per page (default 5)")
    parser.add_argument("--repeat", type=int, default=20, help="test-client requests per page")
    parser.add_argument("--python-load", action="store_true", help="Python threads, not wrk")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread)")
    args = parser.parse_args(argv)
    args.use_wrk = bool(shutil.which("wrk")) and not args.python_load

    url, name = _scratch_database(args.database)
    instance = tempfile.mkdtemp(prefix="bench-web-")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LMS_INSTANCE_PATH": instance,
        "SECRET_KEY": "bench-web",
        "LAB_EXECUTOR": "local",
        "MAIL_BACKEND": "outbox",
    }
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "LMS_INSTANCE_PATH", "SECRET_KEY")})
    try:
        from lms import create_app
        from lms.config import normalise_database_url

        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": normalise_database_url(url),
                "SECRET_KEY": "bench-web",
                "WTF_CSRF_ENABLED": False,
                "LAB_EXECUTOR": "local",
                "PAGE_CACHE_SECONDS": 60,
            }
        )
        pages = seed(app)
        in_process = measure_in_process(app, pages, args.repeat)
        from virtual_labs.executors import stop_local_pool

        stop_local_pool(app)
        with app.app_context():
            from lms.extensions import db

            db.engine.dispose()
        rates = {mode: load_pages(env, pages, args, mode == "kept") for mode in ("render", "kept")}
    finally:
        _drop_database(args.database, name)
        shutil.rmtree(instance, ignore_errors=True)
    print_table(args, pages, in_process, rates)
    return 0


if __name__ == "__main__":
    sys.exit(main())
