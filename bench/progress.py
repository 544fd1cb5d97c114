"""Benchmark the progress pages at two cluster sizes, in one run, and print a table.

For N=100 and N=10,000 employees (``seed_scale``: about 20-30 activity-completion rows per
employee), on a temporary SQLite file created here (and on PostgreSQL too with ``--postgres URL``,
a server URL whose user may create databases), it measures, for one enterprise's HR manager:

* the HR dashboard, the employee table page (default sort, and sorted by progress), the CSV
  export and a learner's "My learning" page;
* SQL statements per request (a ``before_cursor_execute`` listener): they must not grow with N;
* the median wall time of several requests, and the ratio N=10,000 / N=100 (target <= 3 for the
  paginated pages);
* peak Python memory of the streamed CSV export (``tracemalloc``) and its number of rows.

Usage: ``python bench/progress.py [--sizes 100 10000] [--repeat 5] [--postgres URL]``.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from scale_bench import arguments, count_statements, make_app, ms, on_each_database, release  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

PAGES = [
    ("HR dashboard", "/hr/scale-1/", "hr"),
    ("Employee table", "/hr/scale-1/employees", "hr"),
    ("Employee table, by progress, p.3", "/hr/scale-1/employees?sort=progress&dir=desc&page=3", "hr"),
    ("Employee table, filtered overdue", "/hr/scale-1/employees?status=overdue", "hr"),
    ("My learning", "/learning", "learner"),
    ("CSV export", "/hr/scale-1/employees.csv", "hr"),
]  # fmt: skip
PAGINATED = {
    "Employee table",
    "Employee table, by progress, p.3",
    "Employee table, filtered overdue",
}


def build(database_url: str, instance: str, learners: int):
    """A fresh app and database holding the scale cluster of ``learners`` employees."""
    from lms.extensions import db

    app = make_app(database_url, instance)
    with app.app_context():
        from lms.models import Membership, User
        from lms.progress.models import ActivityCompletion
        from lms.progress.scale import seed_scale

        started = time.perf_counter()
        stats = seed_scale(learners)
        db.session.commit()
        seeded = time.perf_counter() - started
        learner = db.session.scalar(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.role == "learner")
            .order_by(User.id)
            .limit(1)
        )
        rows = db.session.scalar(select(func.count(ActivityCompletion.id)))
        db.session.execute(text("ANALYZE"))  # fresh statistics, as a live database would have
        db.session.commit()
    return app, stats, seeded, learner, rows


def login_clients(app, learner_email: str) -> dict:
    clients = {}
    for who, email in (("hr", "hr@scale-1.demo"), ("learner", learner_email)):
        client = app.test_client()
        response = client.post("/auth/login", data={"email": email, "password": "demo-pass-2026"})
        assert response.status_code == 302, f"login failed for {email}"
        clients[who] = client
    return clients


def measure(targets: dict[int, dict], repeat: int) -> dict[int, dict[str, dict]]:
    """Time every page on every size, interleaving the sizes request by request.

    The machine is shared: interleaving gives both sizes the same background load, and the best
    of ``repeat`` runs is the least disturbed figure (the median is kept too).
    """
    count_statements(targets)
    results: dict[int, dict[str, dict]] = {n: {} for n in targets}
    for name, url, who in PAGES:
        samples = {n: ([], [], []) for n in targets}
        for target in targets.values():
            target["clients"][who].get(url).get_data()  # warm up: templates, caches
        for _ in range(repeat):
            for n, target in targets.items():
                target["count"] = 0
                started = time.perf_counter()
                response = target["clients"][who].get(url)
                size = sum(len(chunk) for chunk in response.response)
                samples[n][0].append(time.perf_counter() - started)
                samples[n][1].append(target["count"])
                samples[n][2].append(size)
                assert response.status_code == 200, (url, response.status_code)
        for n, target in targets.items():
            times, queries, sizes = samples[n]
            result = {"time": min(times), "median": statistics.median(times),
                      "queries": max(queries), "size": sizes[-1]}  # fmt: skip
            if name == "CSV export":
                tracemalloc.start()
                response = target["clients"][who].get(url)
                lines = 0
                for chunk in response.response:
                    lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                result.update(peak=peak, rows=lines - 1)
            results[n][name] = result
    return results


def run(backend: str, urls: dict[int, str], sizes: list[int], repeat: int) -> None:
    targets, folders = {}, []
    try:
        for n in sizes:
            instance = tempfile.mkdtemp(prefix="bench-progress-")
            folders.append(instance)
            app, stats, seeded, learner, rows = build(urls[n], instance, n)
            print(
                f"[{backend}] N={n:,}: seeded in {seeded:.1f} s: {stats['learners']:,} employees, "
                f"{stats['assignments']:,} assignments, {rows:,} activity-completion rows, "
                f"{stats['course_completions']:,} course completions",
                flush=True,
            )
            targets[n] = {"app": app, "clients": login_clients(app, learner)}
        by_size = measure(targets, repeat)
    finally:
        release(targets, folders)
    small, large = sizes[0], sizes[-1]
    print()
    print(f"Progress pages on {backend}: best of {repeat} requests (median in brackets)")
    header = (
        f"{'Page':<36} {'SQL N=' + format(small, ','):>12} {'SQL N=' + format(large, ','):>14} "
        f"{'ms N=' + format(small, ','):>16} {'ms N=' + format(large, ','):>16} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    for name, _url, _who in PAGES:
        a, b = by_size[small][name], by_size[large][name]
        ratio = b["time"] / a["time"] if a["time"] else float("nan")
        flag = " (target <= 3)" if name in PAGINATED else ""
        print(
            f"{name:<36} {a['queries']:>12} {b['queries']:>14} "
            f"{ms(a):>16} {ms(b):>16} {ratio:>6.2f}{flag}"
        )
    for n in sizes:
        csv = by_size[n]["CSV export"]
        print(
            f"CSV export N={n:,}: {csv['rows']:,} rows, {csv['size'] / 1024:,.0f} KiB, "
            f"peak Python memory {csv['peak'] / 1024:,.0f} KiB"
        )
    print()


def main() -> None:
    on_each_database("progress", arguments(__doc__), run)


if __name__ == "__main__":
    main()
