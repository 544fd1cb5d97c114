"""The skill-framework migration keeps every free course skill tag, as a cluster skill outcome."""

from __future__ import annotations

from sqlalchemy import text

from lms.extensions import db
from tests.conftest import make_app
from tests.test_migrations import empty_database_url, keep_logging  # noqa: F401 (fixtures)

BEFORE = "524037c26a77"
COURSE = (
    "INSERT INTO courses (id, slug, title, summary, level, estimated_hours, language, status, "
    "visibility, content_version, completion_mode, created_at, updated_at) VALUES "
    "(:id, :slug, :slug, '', :level, 1, 'en', 'published', 'partners', 1, 'all', "
    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


def test_tags_become_cluster_skills_and_come_back(
    empty_database_url,  # noqa: F811
    instance_path,
    keep_logging,  # noqa: F811
):
    app = make_app(empty_database_url, instance_path)
    runner = app.test_cli_runner()
    try:
        assert runner.invoke(args=["db", "upgrade", BEFORE]).exit_code == 0
        with app.app_context():
            with db.engine.begin() as conn:
                conn.execute(text(COURSE), {"id": 1, "slug": "spc", "level": "intermediate"})
                conn.execute(text(COURSE), {"id": 2, "slug": "lean", "level": "advanced"})
                conn.execute(
                    text("INSERT INTO skills (id, name) VALUES (1, 'SPC'), (2, 'Lean / 5S')")
                )
                conn.execute(text("INSERT INTO course_skills VALUES (1, 1), (2, 1), (2, 2)"))
            db.engine.dispose()
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            with db.engine.connect() as conn:
                framework = conn.execute(text("SELECT id, slug FROM skill_frameworks")).one()
                assert framework.slug == "cluster"
                levels = conn.execute(text("SELECT name FROM skill_levels ORDER BY rank")).scalars()
                assert list(levels) == ["aware", "practitioner", "proficient", "expert"]
                skills = conn.execute(
                    text("SELECT id, uri, preferred_label, framework_id FROM skills ORDER BY id")
                ).all()
                assert [(s.id, s.uri, s.preferred_label) for s in skills] == [
                    (1, "urn:educluster:skill:spc", "SPC"),
                    (2, "urn:educluster:skill:lean-5s", "Lean / 5S"),
                ]
                assert {s.framework_id for s in skills} == {framework.id}
                outcomes = conn.execute(
                    text("SELECT course_id, skill_id, level FROM course_outcomes")
                ).all()
                # intermediate -> practitioner (2), advanced -> proficient (3)
                assert sorted(map(tuple, outcomes)) == [(1, 1, 2), (2, 1, 3), (2, 2, 3)]
                # The search index saw the migrated rows (SQLite FTS5 or PostgreSQL GIN).
                if db.engine.dialect.name == "sqlite":
                    hits = conn.execute(
                        text("SELECT rowid FROM skills_fts WHERE skills_fts MATCH 'lean'")
                    ).scalars()
                    assert list(hits) == [2]
            db.engine.dispose()
        result = runner.invoke(args=["db", "downgrade", BEFORE])
        assert result.exit_code == 0, result.output
        with app.app_context(), db.engine.connect() as conn:
            tags = conn.execute(text("SELECT id, name FROM skills ORDER BY id")).all()
            assert list(map(tuple, tags)) == [(1, "SPC"), (2, "Lean / 5S")]
            links = conn.execute(text("SELECT course_id, skill_id FROM course_skills")).all()
            assert sorted(map(tuple, links)) == [(1, 1), (2, 1), (2, 2)]
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
