"""Benchmark the cluster monitoring pages and jobs at two sizes, in one run, and print a table.

For 50 partner organizations with N=100 and N=10,000 learners (two enrolments, course and lab/quiz
results each, programs for the enterprises) and 24 months of stored snapshots, on a temporary
SQLite file (and on PostgreSQL too with ``--postgres URL``, a server URL whose user may create
databases), it measures:

* the cluster dashboard (cluster admin), a partner page (its HR) and ``GET
  /api/v1/cluster/indicators`` (its token): SQL statements per request (they must not grow with
  learners or months) and the best (and median) wall time of several requests, the two sizes
  interleaved request by request, with the ratio N=10,000 / N=100 (target <= 3),
  "cold" (the current month's live figures recomputed for the request) and "cached" (reused
  within ``CLUSTER_LIVE_SECONDS``, as a busy dashboard sees them);
* ``cluster signals`` and ``cluster snapshot``: wall time and peak Python memory (tracemalloc).

Usage: ``python bench/cluster.py [--sizes 100 10000] [--repeat 5] [--postgres URL]``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

ORGS = 50
MONTHS = 24
PASSWORD_HASH = "pbkdf2:sha256:1000$bench$" + "0" * 64


def _rows(table, rows):
    from lms.extensions import db

    if rows:
        db.session.execute(table.insert(), rows)


def seed(learners: int) -> dict:
    """50 partners, ``learners`` learners spread over them, courses, results, programs, history."""
    from lms.cluster.cohort import store_cohort_base
    from lms.cluster.models import Placement
    from lms.cluster.periods import last_months, month_of
    from lms.cluster.raw import CLUSTER
    from lms.cluster.seed_history import _month_raw
    from lms.cluster.snapshots import store_snapshot
    from lms.domain.models import Activity, Course, CoursePartner, Enrolment, Module
    from lms.extensions import db
    from lms.models import Membership, Organization, User
    from lms.progress.models import (
        ActivityCompletion,
        CourseCompletion,
        Program,
        ProgramAssignment,
    )
    from lms.timeutil import utcnow

    rng = random.Random(5)
    now = utcnow()
    _rows(Organization.__table__, [
        {"id": i, "name": f"Partner {i}", "slug": f"org-{i}", "created_at": now,
         "kind": "university" if i % 3 == 0 else "enterprise", "description": ""}
        for i in range(1, ORGS + 1)
    ])  # fmt: skip
    staff = [("admin@bench.test", None, None)] + [
        (f"hr{i}@bench.test", i, "hr") for i in range(1, ORGS + 1)
    ]
    users = [
        {"id": n + 1, "email": email, "name": email, "password_hash": PASSWORD_HASH,
         "active": True, "is_site_admin": n == 0, "created_at": now}
        for n, (email, _org, _role) in enumerate(staff)
    ]  # fmt: skip
    first_learner = len(users) + 1
    users += [
        {"id": first_learner + k, "email": f"l{k}@bench.test", "name": f"Learner {k}",
         "password_hash": PASSWORD_HASH, "active": True, "is_site_admin": False,
         "created_at": now}
        for k in range(learners)
    ]  # fmt: skip
    _rows(User.__table__, users)
    members = [
        {"user_id": n + 1, "organization_id": org, "role": role, "created_at": now - timedelta(days=900)}
        for n, (_e, org, role) in enumerate(staff) if org
    ] + [
        {"user_id": first_learner + k, "organization_id": 1 + k % ORGS, "role": "learner",
         "created_at": now - timedelta(days=900)}
        for k in range(learners)
    ]  # fmt: skip
    _rows(Membership.__table__, members)
    courses = 10
    _rows(Course.__table__, [
        {"id": c, "slug": f"c{c}", "title": f"Course {c}", "status": "published", "summary": "",
         "level": "beginner", "estimated_hours": 1.0, "language": "en", "visibility": "cluster",
         "content_version": 1, "completion_mode": "all", "created_at": now - timedelta(days=800),
         "updated_at": now}
        for c in range(1, courses + 1)
    ])  # fmt: skip
    _rows(CoursePartner.__table__, [
        {"course_id": c, "organization_id": o, "role": "partner"}
        for c in range(1, courses + 1) for o in {1 + c % ORGS, 1 + (c * 7) % ORGS}
    ])  # fmt: skip
    _rows(Module.__table__, [
        {"id": c, "course_id": c, "title": "M", "summary": "", "position": 0}
        for c in range(1, courses + 1)
    ])  # fmt: skip
    # Base rows only: the cluster reads activity type and results, never the plugin's table.
    _rows(Activity.__table__, [
        {"id": 2 * c - 1 + t, "type": ("lab", "quiz")[t], "course_id": c, "module_id": c,
         "title": f"{('Lab', 'Quiz')[t]} {c}", "position": t, "completion_rule": "passed",
         "weight": 1.0, "required": True, "created_at": now, "updated_at": now}
        for c in range(1, courses + 1) for t in (0, 1)
    ])  # fmt: skip
    enrolments, completions, results = [], [], []
    for k in range(learners):
        uid = first_learner + k
        for c in (1 + k % courses, 1 + (k + 3) % courses):
            start = now - timedelta(days=rng.randint(1, 700))
            enrolments.append({"user_id": uid, "course_id": c, "status": "active",
                               "method": "self", "enrolled_at": start})  # fmt: skip
            done = rng.random() < 0.5
            completions.append({
                "user_id": uid, "course_id": c, "state": "completed" if done else "in_progress",
                "progress": 100.0 if done else 40.0, "updated_at": now,
                "completed_at": start + timedelta(days=rng.randint(5, 60)) if done else None,
                "last_activity_at": start + timedelta(days=rng.randint(0, 60)),
            })  # fmt: skip
            for t in (0, 1):
                results.append({
                    "user_id": uid, "activity_id": 2 * c - 1 + t, "course_id": c,
                    "submitted_at": start + timedelta(days=2), "attempts": rng.randint(1, 4),
                    "completed": rng.random() < 0.7, "failed": False,
                    "grade": float(rng.randint(40, 100)), "override_reason": "", "updated_at": now,
                })  # fmt: skip
    _rows(Enrolment.__table__, enrolments)
    _rows(CourseCompletion.__table__, completions)
    _rows(ActivityCompletion.__table__, results)
    enterprises = [o for o in range(1, ORGS + 1) if o % 3]
    _rows(Program.__table__, [
        {"id": o, "organization_id": o, "name": f"Program {o}", "purpose": "upskilling",
         "description": "", "completion_mode": "all", "due_mode": "relative", "due_days": 60,
         "created_at": now, "updated_at": now, "archived": False}
        for o in enterprises
    ])  # fmt: skip
    _rows(ProgramAssignment.__table__, [
        {"program_id": 1 + k % ORGS, "organization_id": 1 + k % ORGS,
         "user_id": first_learner + k, "assigned_at": now - timedelta(days=90),
         "due_at": now - timedelta(days=rng.randint(-30, 60)), "status": "in_progress",
         "progress": 50.0, "courses_completed": 0, "cycle": 1}
        for k in range(learners) if (1 + k % ORGS) in enterprises
    ])  # fmt: skip
    for o in enterprises[:10]:
        db.session.add(Placement(organization_id=o, title=f"Internship {o}", location="Site",
                                 starts_on=(now + timedelta(days=10 + o)).date(),
                                 ends_on=(now + timedelta(days=100)).date(), seats=3))  # fmt: skip
    # 24 months of history, as `cluster snapshot` would have stored it.
    months = last_months(now, MONTHS + 1)[:-1]
    slugs = ["acme", "northfield", "globex", "ril"]
    for i, period in enumerate(months):
        raw = {o: _month_raw(rng, slugs[o % 4], i / (MONTHS - 1)) for o in range(1, ORGS + 1)}
        raw[CLUSTER] = raw[1]
        store_snapshot(period, raw, period.end)
    # The current month's cohort base, as `cluster snapshot` stores it when the month begins.
    store_cohort_base(month_of(now), now)
    db.session.commit()
    return {"learners": learners, "enrolments": len(enrolments), "results": len(results)}


def build(database_url: str, instance: str, learners: int):
    """A fresh app and database holding the bench cluster."""
    os.environ["LMS_INSTANCE_PATH"] = instance
    from lms import create_app
    from lms.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "LAB_EXECUTOR": "inline",
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        started = time.perf_counter()
        stats = seed(learners)
        stats["seconds"] = time.perf_counter() - started
        from lms.api.tokens import create_token
        from lms.models import Organization, User

        org = db.session.get(Organization, 1)
        hr = db.session.query(User).filter_by(email="hr1@bench.test").one()
        stats["token"] = create_token(org, "bench", hr)[1]
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return app, stats


def _login(client, email: str) -> None:
    from lms.extensions import db
    from lms.models import User

    with client.application.app_context():
        user = db.session.query(User).filter_by(email=email).one()
        user.set_password("bench-pass-2026")
        db.session.commit()
    client.post("/auth/login", data={"email": email, "password": "bench-pass-2026"})


PAGES = ("Cluster dashboard", "Partner page", "API indicators")


def _page_clients(app, stats: dict) -> dict:
    """Per page: (url, a logged-in client, headers)."""
    out = {}
    for label, url, email, headers in (
        ("Cluster dashboard", "/cluster/", "admin@bench.test", {}),
        ("Partner page", "/cluster/partners/org-1", "hr1@bench.test", {}),
        ("API indicators", "/api/v1/cluster/indicators", None,
         {"Authorization": f"Bearer {stats['token']}"}),
    ):  # fmt: skip
        client = app.test_client()
        if email:
            _login(client, email)
        out[label] = (url, client, headers)
    return out


def measure_pages(targets: dict[int, dict], repeat: int) -> dict[int, dict]:
    """Statements and times of each page, cold and cached, the sizes interleaved request by
    request (the machine is shared: both sizes see the same background load)."""
    from lms.extensions import db

    for target in targets.values():
        with target["app"].app_context():
            engine = db.engine
        target["count"] = 0

        def count(*_a, target=target, **_k):
            target["count"] += 1

        event.listen(engine, "before_cursor_execute", count)
    out: dict[int, dict] = {n: {} for n in targets}
    for label in PAGES:
        for target in targets.values():
            url, client, headers = target["pages"][label]
            client.get(url, headers=headers)  # warm
        row: dict[int, list] = {n: [] for n in targets}
        for cold in (True, False):
            samples = {n: ([], []) for n in targets}
            for _ in range(max(repeat, 3)):
                for n, target in targets.items():
                    url, client, headers = target["pages"][label]
                    if cold:  # recompute the current month's live figures
                        target["app"].extensions.setdefault("cluster.live", {}).clear()
                    target["count"] = 0
                    started = time.perf_counter()
                    response = client.get(url, headers=headers)
                    samples[n][0].append(time.perf_counter() - started)
                    samples[n][1].append(target["count"])
                    assert response.status_code == 200, (url, response.status_code)
            for n, (times, counts) in samples.items():
                # The fewest statements: session and token bookkeeping write now and then.
                row[n] += [min(counts), min(times), statistics.median(times)]
        for n in targets:
            out[n][label] = tuple(row[n])
    return out


def measure_jobs(app) -> dict:
    """Time and peak Python memory of ``cluster signals`` and ``cluster snapshot``."""
    from lms.extensions import db

    out = {}
    runner = app.test_cli_runner()
    for label, args in (("cluster signals", ["cluster", "signals"]),
                        ("cluster snapshot", ["cluster", "snapshot"])):  # fmt: skip
        if label == "cluster snapshot":
            with app.app_context():
                from lms.cluster.models import CohortBase, IndicatorSnapshot
                from lms.cluster.periods import month_of, previous_month
                from lms.timeutil import utcnow

                db.session.query(IndicatorSnapshot).filter_by(
                    month=previous_month(utcnow()).name
                ).delete()
                db.session.query(CohortBase).filter_by(month=month_of(utcnow()).name).delete()
                db.session.commit()
        tracemalloc.start()
        started = time.perf_counter()
        result = runner.invoke(args=args)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert result.exit_code == 0, result.output
        out[label] = (elapsed, peak / 1e6)
    return out


def _ms(best: float, median: float) -> str:
    return f"{best * 1000:.1f} ({median * 1000:.0f})"


def run(label: str, url_for_size, sizes: list[int], repeat: int) -> None:
    """Measure every size on one database kind and print the table."""
    targets, folders, stats = {}, [], {}
    try:
        for size in sizes:
            instance = tempfile.mkdtemp(prefix="bench-cluster-")
            folders.append(instance)
            app, stats[size] = build(url_for_size(size, instance), instance, size)
            targets[size] = {"app": app, "pages": _page_clients(app, stats[size])}
        pages = measure_pages(targets, repeat)
        jobs = {size: measure_jobs(target["app"]) for size, target in targets.items()}
    finally:
        for target in targets.values():
            with target["app"].app_context():
                from lms.extensions import db

                db.session.remove()
                db.engine.dispose()
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
    small, large = sizes[0], sizes[-1]
    print(f"\n{label}: {ORGS} partners, {MONTHS} months of snapshots; best of "
          f"{max(repeat, 3)} requests, sizes interleaved (median in brackets)")  # fmt: skip
    for size in sizes:
        s = stats[size]
        print(f"  N={size:>6}: {s['enrolments']} enrolments, {s['results']} activity results, "
              f"seeded in {s['seconds']:.1f} s")  # fmt: skip
    print(f"  {'request':18} {'SQL':>4} {'cold ms @' + str(small):>14} "
          f"{'cold ms @' + str(large):>15} {'ratio':>6} {'SQL':>4} "
          f"{'cached ms @' + str(small):>16} {'cached ms @' + str(large):>17} {'ratio':>6}")  # fmt: skip
    for name in PAGES:
        q1, t1, m1, w1, u1, v1 = pages[small][name]
        q2, t2, m2, w2, u2, v2 = pages[large][name]
        sql = f"{q1}" if q1 == q2 else f"{q1}/{q2}"
        cached = f"{w1}" if w1 == w2 else f"{w1}/{w2}"
        print(f"  {name:18} {sql:>4} {_ms(t1, m1):>14} {_ms(t2, m2):>15} {t2 / t1:>6.2f} "
              f"{cached:>4} {_ms(u1, v1):>16} {_ms(u2, v2):>17} {u2 / u1:>6.2f}")  # fmt: skip
    print(f"  {'job':18} {'s @' + str(small):>9} {'s @' + str(large):>10} "
          f"{'MB @' + str(small):>10} {'MB @' + str(large):>11}")  # fmt: skip
    for name in ("cluster signals", "cluster snapshot"):
        s1, mb1 = jobs[small][name]
        s2, mb2 = jobs[large][name]
        print(f"  {name:18} {s1:>9.2f} {s2:>10.2f} {mb1:>10.1f} {mb2:>11.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 10_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", default=None)
    args = parser.parse_args()
    run("SQLite", lambda size, inst: f"sqlite:///{inst}/bench-{size}.db", args.sizes, args.repeat)
    if args.postgres:
        base = make_url(args.postgres)
        admin = create_engine(base, isolation_level="AUTOCOMMIT")

        def pg_url(size, _inst):
            name = f"bench_cluster_{size}"
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            return base.set(database=name).render_as_string(hide_password=False)

        run("PostgreSQL", pg_url, args.sizes, args.repeat)


if __name__ == "__main__":
    main()
