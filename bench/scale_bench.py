"""The scaffold the scale benchmarks share (``bench/progress.py``, ``bench/skills_gap.py``): an app
on a fresh database per size, a statement counter per engine, the ``_ms`` cell, clean-up, and a
run on SQLite and then, with ``--postgres URL``, on PostgreSQL databases made and dropped here.
Benchmark-only code: never imported by the app or the tests."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from collections.abc import Callable

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url


def make_app(database_url: str, instance: str):
    """An app on ``database_url`` with an empty schema; the inline lab executor keeps a background
    lab pool from polling the database (and being counted as SQL)."""
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
    return app


def count_statements(targets: dict[int, dict]) -> None:
    """Count each target's SQL statements in ``target["count"]`` (reset it before a request)."""
    from lms.extensions import db

    for target in targets.values():
        with target["app"].app_context():
            engine = db.engine
        target["count"] = 0

        def count(*_args, target=target):
            target["count"] += 1

        event.listen(engine, "before_cursor_execute", count)


def release(targets: dict[int, dict], folders: list[str]) -> None:
    """Close every target's connections and remove the temporary folders."""
    from lms.extensions import db

    for target in targets.values():
        with target["app"].app_context():
            db.session.remove()
            db.engine.dispose()
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def ms(result: dict) -> str:
    """The best time in ms, with the median in brackets."""
    return f"{result['time'] * 1000:.1f} ({result['median'] * 1000:.0f})"


def arguments(doc: str) -> argparse.Namespace:
    """``--sizes``, ``--repeat`` and ``--postgres``, as every scale benchmark takes them."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 10_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", help="also run on PostgreSQL (server URL)")
    return parser.parse_args()


def on_each_database(
    prefix: str, args: argparse.Namespace, run: Callable[[str, dict, list, int], None]
) -> None:
    """``run(backend, {size: url}, sizes, repeat)`` on SQLite files, then on PostgreSQL
    databases named after ``prefix`` (made here and dropped after) when ``--postgres`` is set."""
    folder = tempfile.mkdtemp(prefix=f"bench-{prefix}-db-")
    try:
        urls = {n: f"sqlite:///{folder}/bench-{n}.sqlite3" for n in args.sizes}
        run("SQLite", urls, args.sizes, args.repeat)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if not args.postgres:
        return
    from lms.config import normalise_database_url

    base = make_url(normalise_database_url(args.postgres))
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    urls = {}
    for n in args.sizes:
        name = f"bench_{prefix}_{n}_{os.getpid()}"
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        urls[n] = base.set(database=name).render_as_string(hide_password=False)
    try:
        run("PostgreSQL", urls, args.sizes, args.repeat)
    finally:
        with admin.connect() as conn:
            for url in urls.values():
                conn.execute(
                    text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
                )
        admin.dispose()
