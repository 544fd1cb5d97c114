"""Skill frameworks: skills in a tree with URIs and labels, proficiency scales, course and activity
outcomes, full-text search over labels; the free course skill tags become cluster skills

Revision ID: 7c1e5a2b9d40
Revises: a41c7e9d2b55
Create Date: 2026-12-04 16:40:00

The old ``skills`` table held bare tag names and ``course_skills`` linked them to courses. Each tag
becomes a skill of the "Cluster skills" framework (same id, a ``urn:educluster:skill:`` URI made
from its name), and each course link an outcome at the level the course declares (beginner ->
aware, intermediate -> practitioner, advanced -> proficient). Nothing is dropped before it is
read back into the new tables, and the downgrade turns outcomes back into tags.
"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7c1e5a2b9d40"
down_revision = "a41c7e9d2b55"
branch_labels = None
depends_on = None

DEFAULT_SCALE = ("aware", "practitioner", "proficient", "expert")
COURSE_LEVEL_RANKS = {"beginner": 1, "intermediate": 2, "advanced": 3}

# The same objects lms.skills.models creates with create_all (copied: a migration must not change
# when the application code does).
SQLITE_SEARCH_DDL = (
    "CREATE VIRTUAL TABLE skills_fts USING fts5(preferred_label, alt_labels, "
    "content='skills', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE skills_prefix_fts USING fts5(preferred_label, alt_labels, "
    "content='skills', content_rowid='id', tokenize='unicode61 remove_diacritics 2', "
    "prefix='2 3 4')",
    "CREATE TRIGGER skills_fts_ai AFTER INSERT ON skills BEGIN "
    "INSERT INTO skills_fts(rowid, preferred_label, alt_labels) "
    "VALUES (new.id, new.preferred_label, new.alt_labels); "
    "INSERT INTO skills_prefix_fts(rowid, preferred_label, alt_labels) "
    "VALUES (new.id, new.preferred_label, new.alt_labels); END",
    "CREATE TRIGGER skills_fts_ad AFTER DELETE ON skills BEGIN "
    "INSERT INTO skills_fts(skills_fts, rowid, preferred_label, alt_labels) "
    "VALUES ('delete', old.id, old.preferred_label, old.alt_labels); "
    "INSERT INTO skills_prefix_fts(skills_prefix_fts, rowid, preferred_label, alt_labels) "
    "VALUES ('delete', old.id, old.preferred_label, old.alt_labels); END",
    "CREATE TRIGGER skills_fts_au AFTER UPDATE OF preferred_label, alt_labels "
    "ON skills BEGIN "
    "INSERT INTO skills_fts(skills_fts, rowid, preferred_label, alt_labels) "
    "VALUES ('delete', old.id, old.preferred_label, old.alt_labels); "
    "INSERT INTO skills_prefix_fts(skills_prefix_fts, rowid, preferred_label, alt_labels) "
    "VALUES ('delete', old.id, old.preferred_label, old.alt_labels); "
    "INSERT INTO skills_fts(rowid, preferred_label, alt_labels) "
    "VALUES (new.id, new.preferred_label, new.alt_labels); "
    "INSERT INTO skills_prefix_fts(rowid, preferred_label, alt_labels) "
    "VALUES (new.id, new.preferred_label, new.alt_labels); END",
)
SQLITE_SEARCH_DROP = (
    "DROP TRIGGER IF EXISTS skills_fts_au",
    "DROP TRIGGER IF EXISTS skills_fts_ad",
    "DROP TRIGGER IF EXISTS skills_fts_ai",
    "DROP TABLE IF EXISTS skills_prefix_fts",
    "DROP TABLE IF EXISTS skills_fts",
)
PG_SEARCH_DDL = (
    "CREATE INDEX ix_skills_search_english ON skills USING gin (("
    "setweight(to_tsvector('english'::regconfig, preferred_label), 'A') || "
    "setweight(to_tsvector('english'::regconfig, alt_labels), 'B')))",
    "CREATE INDEX ix_skills_search_simple ON skills USING gin (("
    "to_tsvector('simple'::regconfig, preferred_label || ' ' || alt_labels)))",
)


def _slug(label):
    text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:120] or "skill"


def _create_tables():
    op.create_table(
        "skill_frameworks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("uri", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skill_frameworks")),
        sa.UniqueConstraint("slug", name=op.f("uq_skill_frameworks_slug")),
        sa.UniqueConstraint("uri", name=op.f("uq_skill_frameworks_uri")),
    )
    op.create_table(
        "skill_levels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("framework_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("proficient", sa.Boolean(), nullable=False),
        sa.CheckConstraint("rank >= 1", name=op.f("ck_skill_levels_rank_positive")),
        sa.ForeignKeyConstraint(
            ["framework_id"],
            ["skill_frameworks.id"],
            name=op.f("fk_skill_levels_framework_id_skill_frameworks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skill_levels")),
        sa.UniqueConstraint(
            "framework_id", "rank", name=op.f("uq_skill_levels_framework_id_rank")
        ),
    )
    op.create_table(
        "skills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("framework_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("uri", sa.String(length=255), nullable=False),
        sa.Column("preferred_label", sa.String(length=255), nullable=False),
        sa.Column("alt_labels", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("skill_type", sa.String(length=20), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["framework_id"],
            ["skill_frameworks.id"],
            name=op.f("fk_skills_framework_id_skill_frameworks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["skills.id"], name=op.f("fk_skills_parent_id_skills"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skills")),
        sa.UniqueConstraint("framework_id", "uri", name=op.f("uq_skills_framework_id_uri")),
    )
    op.create_index(
        "ix_skills_framework_parent", "skills", ["framework_id", "parent_id", "position"]
    )
    op.create_index("ix_skills_uri", "skills", ["uri"])
    for table, owner, owner_table in (
        ("course_outcomes", "course_id", "courses"),
        ("activity_outcomes", "activity_id", "activities"),
    ):
        op.create_table(
            table,
            sa.Column(owner, sa.Integer(), nullable=False),
            sa.Column("skill_id", sa.Integer(), nullable=False),
            sa.Column("level", sa.Integer(), nullable=False),
            sa.CheckConstraint("level >= 1", name=op.f(f"ck_{table}_level_positive")),
            sa.ForeignKeyConstraint(
                [owner],
                [f"{owner_table}.id"],
                name=op.f(f"fk_{table}_{owner}_{owner_table}"),
                ondelete="CASCADE",
            ),
            sa.ForeignKeyConstraint(
                ["skill_id"], ["skills.id"], name=op.f(f"fk_{table}_skill_id_skills"), ondelete="CASCADE"
            ),
            sa.PrimaryKeyConstraint(owner, "skill_id", name=op.f(f"pk_{table}")),
        )
        op.create_index(op.f(f"ix_{table}_skill_id"), table, ["skill_id"])


def upgrade():
    bind = op.get_bind()
    # Read the tags and their course links before the old tables go.
    tags = bind.execute(sa.text("SELECT id, name FROM skills ORDER BY id")).all()
    links = bind.execute(
        sa.text(
            "SELECT cs.course_id, cs.skill_id, c.level FROM course_skills cs "
            "JOIN courses c ON c.id = cs.course_id"
        )
    ).all()
    op.drop_table("course_skills")
    op.drop_table("skills")
    _create_tables()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_SEARCH_DDL:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        for statement in PG_SEARCH_DDL:
            op.execute(statement)
    if not tags:
        return
    now = sa.func.current_timestamp()
    frameworks = sa.table(
        "skill_frameworks",
        *(sa.column(c) for c in ("id", "slug", "uri", "name", "description", "source")),
        sa.column("created_at"),
        sa.column("updated_at"),
    )
    framework_id = bind.execute(
        frameworks.insert()
        .values(
            slug="cluster",
            uri="urn:educluster:framework:cluster",
            name="Cluster skills",
            description="The skills the cluster's partners teach and ask for.",
            source="local",
            created_at=now,
            updated_at=now,
        )
        .returning(frameworks.c.id)
    ).scalar_one()
    op.bulk_insert(
        sa.table(
            "skill_levels",
            *(
                sa.column(c)
                for c in ("framework_id", "rank", "name", "description", "is_default", "proficient")
            ),
        ),
        [
            {
                "framework_id": framework_id,
                "rank": rank,
                "name": name,
                "description": "",
                "is_default": rank == 1,
                "proficient": False,
            }
            for rank, name in enumerate(DEFAULT_SCALE, 1)
        ],
    )
    uris, rows = set(), []
    for tag_id, name in tags:
        uri, n = "urn:educluster:skill:" + _slug(name), 2
        while uri in uris:
            uri, n = f"urn:educluster:skill:{_slug(name)}-{n}", n + 1
        uris.add(uri)
        rows.append(
            {
                "id": tag_id,
                "framework_id": framework_id,
                "parent_id": None,
                "kind": "skill",
                "uri": uri,
                "preferred_label": name,
                "alt_labels": "",
                "description": "",
                "skill_type": None,
                "position": len(rows),
            }
        )
    op.bulk_insert(
        sa.table("skills", *(sa.column(c) for c in rows[0])),
        rows,
    )
    if bind.dialect.name == "postgresql":
        op.execute("SELECT setval(pg_get_serial_sequence('skills', 'id'), (SELECT max(id) FROM skills))")
    if links:
        op.bulk_insert(
            sa.table("course_outcomes", sa.column("course_id"), sa.column("skill_id"), sa.column("level")),
            [
                {"course_id": c, "skill_id": s, "level": COURSE_LEVEL_RANKS.get(level, 1)}
                for c, s, level in links
            ],
        )


def downgrade():
    bind = op.get_bind()
    # Outcomes of every framework become tags again (by preferred label, truncated to fit).
    skills = bind.execute(sa.text("SELECT id, preferred_label FROM skills ORDER BY id")).all()
    links = bind.execute(sa.text("SELECT course_id, skill_id FROM course_outcomes")).all()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_SEARCH_DROP:
            op.execute(statement)
    op.drop_table("activity_outcomes")
    op.drop_table("course_outcomes")
    op.drop_table("skills")
    op.drop_table("skill_levels")
    op.drop_table("skill_frameworks")
    op.create_table(
        "skills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skills")),
        sa.UniqueConstraint("name", name=op.f("uq_skills_name")),
    )
    op.create_table(
        "course_skills",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("skill_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_course_skills_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["skill_id"], ["skills.id"], name=op.f("fk_course_skills_skill_id_skills"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("course_id", "skill_id", name=op.f("pk_course_skills")),
    )
    used = {s for _, s in links}
    by_name, tag_of = {}, {}
    for skill_id, label in skills:
        if skill_id not in used:
            continue
        name = label[:80]
        by_name.setdefault(name.lower(), (skill_id, name))
        tag_of[skill_id] = by_name[name.lower()][0]
    if by_name:
        op.bulk_insert(
            sa.table("skills", sa.column("id"), sa.column("name")),
            [{"id": i, "name": n} for i, n in by_name.values()],
        )
        op.bulk_insert(
            sa.table("course_skills", sa.column("course_id"), sa.column("skill_id")),
            [{"course_id": c, "skill_id": t} for c, t in {(c, tag_of[s]) for c, s in links}],
        )
        if bind.dialect.name == "postgresql":
            op.execute("SELECT setval(pg_get_serial_sequence('skills', 'id'), (SELECT max(id) FROM skills))")
