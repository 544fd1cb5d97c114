"""The Alembic migrations build exactly the schema the models describe (no autogenerate drift).

``flask db upgrade`` runs on a fresh, empty database (a SQLite file, and a PostgreSQL database
of its own when ``TEST_DATABASE_URL`` is set); Alembic's comparison of the live schema with the
models must then find nothing to do. Tables named ``test_*`` come only from test plugins (see
``tests/thirdparty_plugin``) and are ignored.
"""

from __future__ import annotations

import logging
import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from lms.config import normalise_database_url
from lms.extensions import db
from tests.conftest import make_app


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Leave out tables that only test plugins define, with their columns and indexes, and the
    SQLite FTS5 tables of skill search (created by DDL events and the migration, not mapped)."""
    table = obj if type_ == "table" else getattr(obj, "table", None)
    table_name = name if type_ == "table" else getattr(table, "name", "")
    return not (table_name or "").startswith(("test_", "skills_fts", "skills_prefix_fts"))


def schema_drift(engine, metadata) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        return compare_metadata(context, metadata)


@pytest.fixture
def empty_database_url(tmp_path):
    """A brand-new empty database for this test only."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield "sqlite:///" + str(tmp_path / "migrated.sqlite3")
        return
    url = make_url(normalise_database_url(base))
    name = f"{url.database}_migrations_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def keep_logging():
    """Alembic's env.py calls ``logging.config.fileConfig``, which disables every existing
    logger; put them back so later tests' log assertions still work."""
    manager = logging.root.manager
    disabled = {
        name: logger.disabled
        for name, logger in manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    root_level, root_handlers = logging.root.level, list(logging.root.handlers)
    yield
    for name, logger in manager.loggerDict.items():
        if isinstance(logger, logging.Logger):
            logger.disabled = disabled.get(name, False)
    logging.root.setLevel(root_level)
    logging.root.handlers[:] = root_handlers


def test_upgrade_head_matches_the_models(empty_database_url, instance_path, keep_logging):
    app = make_app(empty_database_url, instance_path)
    try:
        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output + repr(result.exception)
        with app.app_context():
            tables = set(inspect(db.engine).get_table_names())
            assert "alembic_version" in tables
            model_tables = {t for t in db.metadata.tables if not t.startswith("test_")}
            missing = model_tables - tables
            assert not missing, f"the migrations do not create: {sorted(missing)}"
            drift = schema_drift(db.engine, db.metadata)
            assert drift == [], "models and migrations disagree:\n" + "\n".join(
                repr(d) for d in drift
            )
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_migrations_have_a_single_head(app, keep_logging):
    from alembic.script import ScriptDirectory
    from flask_migrate import Config

    directory = app.extensions["migrate"].directory
    config = Config(os.path.join(directory, "alembic.ini"))
    config.set_main_option("script_location", directory)
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"expected one migration head, found {heads}"
