"""Benchmark the skills gap at two cluster sizes, in one run, and print a table.

For N=100 and N=10,000 employees, each size on its own temporary SQLite file (and on PostgreSQL too
with ``--postgres URL``, a server URL whose user may create databases) seeded exactly as
``flask --app app lms seed-scale --learners N`` does: the progress scale cluster
(:func:`lms.progress.scale.seed_scale`) and its skills step (:func:`lms.skills.scale.seed_skill_scale`:
20 skills of evidence per employee, outcomes on the scale courses, 50 organizations stating
5 job roles of 8 skills each). It measures, for the HR manager of ``scale-1``, an API token of
``scale-1`` and a cluster admin:

* ``GET /hr/scale-1/skills/gap`` (the HR gap page with its chart and cluster column),
  ``GET /api/v1/skills/gaps`` and ``GET /skills/cluster/`` (the cluster page);
* SQL statements per request (a ``before_cursor_execute`` listener): they must not grow with N;
* the best and the median wall time of several requests, the sizes interleaved request by
  request (the machine is shared), and the ratio N=10,000 / N=100 (target <= 3).

Usage: ``python bench/skills_gap.py [--sizes 100 10000] [--repeat 5] [--postgres URL]``.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from scale_bench import arguments, count_statements, make_app, ms, on_each_database, release  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

TARGETS = [
    ("HR skills gap page", "/hr/scale-1/skills/gap", "hr"),
    ("API /skills/gaps", "/api/v1/skills/gaps", "api"),
    ("Cluster skills gap page", "/skills/cluster/", "admin"),
]
ADMIN = "admin@scale.demo"


def build(database_url: str, instance: str, learners: int):
    """A fresh app and database holding the scale cluster with its skills; returns the app,
    the seed counts, the seconds it took and the API token's secret."""
    from lms.extensions import db

    app = make_app(database_url, instance)
    with app.app_context():
        from lms.api.tokens import create_token
        from lms.models import Organization, User
        from lms.progress.scale import seed_scale, seed_scale_steps
        from lms.seed import DEMO_PASSWORD
        from lms.skills.gap_models import SkillEvidence

        started = time.perf_counter()
        stats = seed_scale(learners)  # the same two calls as ``lms seed-scale``
        stats.update(seed_scale_steps())
        db.session.commit()
        seeded = time.perf_counter() - started
        admin = User(email=ADMIN, name="Scale Cluster Admin", is_site_admin=True)
        admin.set_password(DEMO_PASSWORD)
        db.session.add(admin)
        hr = db.session.scalar(select(User).where(User.email == "hr@scale-1.demo"))
        org = db.session.scalar(select(Organization).where(Organization.slug == "scale-1"))
        _, secret = create_token(org, "bench", hr)
        stats["evidence_rows"] = db.session.scalar(select(func.count(SkillEvidence.id)))
        db.session.commit()
        db.session.execute(text("ANALYZE"))  # fresh statistics, as a live database would have
        db.session.commit()
    return app, stats, seeded, secret


def clients(app, secret: str) -> dict:
    """Logged-in test clients (HR, cluster admin) and the API's bearer header."""
    from lms.seed import DEMO_PASSWORD

    out = {"api": (app.test_client(), {"Authorization": f"Bearer {secret}"})}
    for who, email in (("hr", "hr@scale-1.demo"), ("admin", ADMIN)):
        client = app.test_client()
        response = client.post("/auth/login", data={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, f"login failed for {email}"
        out[who] = (client, {})
    return out


def measure(targets: dict[int, dict], repeat: int) -> dict[int, dict[str, dict]]:
    """Time every target on every size, interleaving the sizes request by request."""
    count_statements(targets)
    results: dict[int, dict[str, dict]] = {n: {} for n in targets}
    for name, url, who in TARGETS:
        samples = {n: ([], []) for n in targets}
        for target in targets.values():
            client, headers = target["clients"][who]
            client.get(url, headers=headers).get_data()  # warm up: templates, caches
        for _ in range(repeat):
            for n, target in targets.items():
                client, headers = target["clients"][who]
                target["count"] = 0
                started = time.perf_counter()
                response = client.get(url, headers=headers)
                response.get_data()
                samples[n][0].append(time.perf_counter() - started)
                samples[n][1].append(target["count"])
                assert response.status_code == 200, (url, response.status_code)
        for n in targets:
            times, queries = samples[n]
            results[n][name] = {"time": min(times), "median": statistics.median(times),
                                "queries": max(queries)}  # fmt: skip
    return results


def run(backend: str, urls: dict[int, str], sizes: list[int], repeat: int) -> None:
    targets, folders = {}, []
    try:
        for n in sizes:
            instance = tempfile.mkdtemp(prefix="bench-gap-")
            folders.append(instance)
            app, stats, seeded, secret = build(urls[n], instance, n)
            print(
                f"[{backend}] N={n:,}: seeded in {seeded:.1f} s: {stats['learners']:,} employees, "
                f"{stats['evidence_rows']:,} skill evidence rows, {stats['skills']} skills, "
                f"{stats['demand_organizations']} organizations, {stats['job_roles']} job roles",
                flush=True,
            )
            targets[n] = {"app": app, "clients": clients(app, secret)}
        by_size = measure(targets, repeat)
    finally:
        release(targets, folders)
    small, large = sizes[0], sizes[-1]
    print()
    print(f"Skills gap on {backend}: best of {repeat} requests (median in brackets)")
    header = (
        f"{'Target':<26} {'SQL N=' + format(small, ','):>12} {'SQL N=' + format(large, ','):>14} "
        f"{'ms N=' + format(small, ','):>16} {'ms N=' + format(large, ','):>16} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    for name, _url, _who in TARGETS:
        a, b = by_size[small][name], by_size[large][name]
        ratio = b["time"] / a["time"] if a["time"] else float("nan")
        print(
            f"{name:<26} {a['queries']:>12} {b['queries']:>14} "
            f"{ms(a):>16} {ms(b):>16} {ratio:>6.2f} (target <= 3)"
        )
    print()


def main() -> None:
    on_each_database("gap", arguments(__doc__), run)


if __name__ == "__main__":
    main()
