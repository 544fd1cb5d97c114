"""SQLite connection settings for file databases: WAL journal, NORMAL sync, a busy timeout.

SQLite's default rollback journal makes every commit fsync the database (and its journal) and
lets no one read while a writer commits. With several writers (web requests, the lab worker
threads recording grades) commits then dominate: ~10 ms each on an ordinary disk. So, for file
databases, every new connection sets:

- ``journal_mode=WAL``: readers never block the writer nor the writer the readers, and a commit
  appends to the write-ahead log instead of rewriting pages. It is persistent (stored in the
  file), cheap to repeat, and needs the ``-wal``/``-shm`` files next to the database: a local
  disk, not a network share.
- ``synchronous=NORMAL``: in WAL mode the log is fsynced at checkpoints, not at every commit. A
  power cut may lose the last transactions, never corrupt the database: the trade SQLite's own
  documentation recommends for WAL. Set ``SQLITE_SYNCHRONOUS = "FULL"`` to fsync every commit.
- ``busy_timeout``: a writer waits for the lock (``SQLITE_BUSY_TIMEOUT_MS``, default 15 s)
  instead of failing at once with "database is locked".

In-memory databases are left alone: WAL does not apply to them (each connection has its own
database, or a shared cache), and there is nothing to fsync. PostgreSQL is untouched.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from lms.extensions import db

SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


def is_file_database(engine: Engine) -> bool:
    """Whether ``engine`` is SQLite on a file (not ``:memory:`` nor a shared in-memory URI)."""
    url = engine.url
    if url.get_backend_name() != "sqlite":
        return False
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return False
    return url.query.get("mode") != "memory" and "mode=memory" not in database


def configure_engine(engine: Engine, synchronous: str = "NORMAL", busy_ms: int = 15000) -> bool:
    """Apply the settings above on every new connection of ``engine``; False if not applicable."""
    if not is_file_database(engine):
        return False
    synchronous = synchronous.upper()
    if synchronous not in SYNCHRONOUS:
        raise ValueError(f"SQLITE_SYNCHRONOUS must be one of {', '.join(SYNCHRONOUS)}")
    busy_ms = int(busy_ms)

    @event.listens_for(engine, "connect")
    def _set_pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        try:
            # The timeout first: switching a database to WAL needs a moment of exclusive access.
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
        finally:
            cursor.close()

    return True


def init_app(app: Flask) -> None:
    """Configure the app's SQLite file engines (called by the factory after ``db.init_app``)."""
    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        configure_engine(
            engine,
            str(app.config.get("SQLITE_SYNCHRONOUS", "NORMAL")),
            int(app.config.get("SQLITE_BUSY_TIMEOUT_MS", 15000)),
        )
