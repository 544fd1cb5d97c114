"""SQLite file databases run in WAL mode with NORMAL sync and a busy timeout; memory ones not."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from lms.db_sqlite import configure_engine, is_file_database
from lms.extensions import db


def _pragmas(engine) -> tuple[str, int, int]:
    with engine.connect() as conn:
        return (
            conn.execute(text("PRAGMA journal_mode")).scalar(),
            conn.execute(text("PRAGMA synchronous")).scalar(),
            conn.execute(text("PRAGMA busy_timeout")).scalar(),
        )


def test_app_engine_uses_wal_on_sqlite_files(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only (the settings do not apply to PostgreSQL)")
        assert _pragmas(db.engine) == ("wal", 1, 15000)  # synchronous 1 = NORMAL


def test_file_and_memory_databases(tmp_path):
    file_engine = create_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert is_file_database(file_engine)
    assert configure_engine(file_engine, "FULL", 2500)
    assert _pragmas(file_engine) == ("wal", 2, 2500)
    file_engine.dispose()

    for url in ("sqlite://", "sqlite:///:memory:"):
        memory = create_engine(url)
        assert not is_file_database(memory)
        assert not configure_engine(memory)
        assert _pragmas(memory)[0] == "memory"
        memory.dispose()


def test_rejects_unknown_synchronous_mode(tmp_path):
    with pytest.raises(ValueError, match="SQLITE_SYNCHRONOUS"):
        configure_engine(create_engine(f"sqlite:///{tmp_path / 'y.sqlite3'}"), "SOMETIMES")
