"""Skill frameworks: a tree of skills with stable URIs, a proficiency scale, and outcomes.

A :class:`Framework` (ESCO, the cluster's own, one a partner brought from Moodle) holds
:class:`Skill` rows in a tree (categories and skills) and its own ordered proficiency scale
(:class:`ProficiencyLevel`, by default *aware, practitioner, proficient, expert*).

Levels are stored everywhere as the **rank** of the level in its framework's scale (1 = lowest),
so "at or above the level" is an integer comparison in SQL; the scale gives each rank its name.
A skill's identity across frameworks is its URI: the demo cluster's skills carry their ESCO URIs,
so a skill picked from ESCO and the same skill in the cluster framework are recognised as one.

Outcomes say what a course (:class:`CourseOutcome`) or an activity (:class:`ActivityOutcome`)
develops: a skill at a level. Skills live in core because courses, plugins, progress and HR all
use them; plugins only declare whether their activities carry outcomes.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    DDL,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.timeutil import utcnow

ESCO_URI_PREFIX = "http://data.europa.eu/esco/"
#: The scale a framework gets unless it defines its own (lowest first).
DEFAULT_SCALE = ("aware", "practitioner", "proficient", "expert")
#: Lengths shared by the models, the importers and the forms.
URI_MAX = 255
LABEL_MAX = 255
LEVEL_NAME_MAX = 60


class SkillKind(enum.StrEnum):
    """A node of the tree: a grouping category, or a skill people can hold."""

    CATEGORY = "category"
    SKILL = "skill"


class SkillType(enum.StrEnum):
    """ESCO's ``skillType`` of a skill (empty for skills that do not say)."""

    SKILL_COMPETENCE = "skill/competence"
    KNOWLEDGE = "knowledge"


SKILL_TYPE_LABELS = {
    SkillType.SKILL_COMPETENCE: "Skill or competence",
    SkillType.KNOWLEDGE: "Knowledge",
}


class FrameworkSource(enum.StrEnum):
    """Where a framework's content comes from."""

    LOCAL = "local"  # written here, or imported from a CSV the cluster keeps
    ESCO = "esco"  # the ESCO skills pillar (attribution required)


class Framework(db.Model):
    """A skill framework: a named tree of skills with its own proficiency scale."""

    __tablename__ = "skill_frameworks"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    uri: Mapped[str] = mapped_column(String(URI_MAX), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Where its labels come from; ESCO's must be shown with ESCO's attribution.
    source: Mapped[str] = mapped_column(String(20), default="local")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    levels: Mapped[list[ProficiencyLevel]] = relationship(
        back_populates="framework",
        cascade="all, delete-orphan",
        order_by="ProficiencyLevel.rank",
    )

    @property
    def is_esco(self) -> bool:
        """Whether the framework is the imported ESCO one."""
        return self.source == FrameworkSource.ESCO

    def level_name(self, rank: int) -> str:
        """The name of the level of ``rank`` in this framework's scale ("" if outside it)."""
        for level in self.levels:
            if level.rank == rank:
                return level.name
        return ""

    def __repr__(self) -> str:
        return f"<Framework {self.slug}>"


class ProficiencyLevel(db.Model):
    """One named level of a framework's proficiency scale; ``rank`` 1 is the lowest."""

    __tablename__ = "skill_levels"
    __table_args__ = (
        UniqueConstraint("framework_id", "rank"),
        CheckConstraint("rank >= 1", name="rank_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("skill_frameworks.id", ondelete="CASCADE"))
    rank: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(LEVEL_NAME_MAX))
    description: Mapped[str] = mapped_column(Text, default="")
    # Moodle's scale configuration: the level a rating starts at, and the levels that count as
    # proficient. Kept so a framework brought from Moodle goes back out unchanged.
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    proficient: Mapped[bool] = mapped_column(Boolean, default=False)

    framework: Mapped[Framework] = relationship(back_populates="levels")


#: The indexed expressions; queries must repeat them exactly for PostgreSQL to use the index.
PG_ENGLISH_VECTOR = (
    "setweight(to_tsvector('english'::regconfig, preferred_label), 'A') || "
    "setweight(to_tsvector('english'::regconfig, alt_labels), 'B')"
)
# Written as PostgreSQL reflects it back, so Alembic's comparison sees no drift.
PG_SIMPLE_VECTOR = (
    "to_tsvector('simple'::regconfig, (preferred_label::text || ' '::text) || alt_labels)"
)


class Skill(db.Model):
    """A node of a framework's tree: a category or a skill, with a stable URI and labels."""

    __tablename__ = "skills"
    __table_args__ = (
        UniqueConstraint("framework_id", "uri"),
        Index("ix_skills_framework_parent", "framework_id", "parent_id", "position"),
        Index("ix_skills_uri", "uri"),
        Index(
            "ix_skills_search_english", text(f"({PG_ENGLISH_VECTOR})"), postgresql_using="gin"
        ).ddl_if(dialect="postgresql"),
        Index("ix_skills_search_simple", text(PG_SIMPLE_VECTOR), postgresql_using="gin").ddl_if(
            dialect="postgresql"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("skill_frameworks.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("skills.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10), default=SkillKind.SKILL)
    uri: Mapped[str] = mapped_column(String(URI_MAX))
    preferred_label: Mapped[str] = mapped_column(String(LABEL_MAX))
    alt_labels: Mapped[str] = mapped_column(Text, default="")  # one per line, as in ESCO's CSV
    description: Mapped[str] = mapped_column(Text, default="")
    skill_type: Mapped[str | None] = mapped_column(String(20))  # SkillType, or None
    position: Mapped[int] = mapped_column(Integer, default=0)  # among its siblings

    framework: Mapped[Framework] = relationship()
    parent: Mapped[Skill | None] = relationship(remote_side=[id])

    @property
    def alt_label_list(self) -> list[str]:
        """Alternative labels of the skill, one per line."""
        return [line for line in self.alt_labels.splitlines() if line.strip()]

    @property
    def label(self) -> str:
        """Preferred label shown for the skill."""
        return self.preferred_label

    @property
    def is_esco(self) -> bool:
        """Whether this is an ESCO concept (its label must be shown with ESCO's attribution)."""
        return self.uri.startswith(ESCO_URI_PREFIX)

    def __repr__(self) -> str:
        return f"<Skill {self.uri} {self.preferred_label!r}>"


class CourseOutcome(db.Model):
    """A skill, and the level of it, that a course develops in those who complete it."""

    __tablename__ = "course_outcomes"
    __table_args__ = (CheckConstraint("level >= 1", name="level_positive"),)

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[int] = mapped_column(
        ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    level: Mapped[int] = mapped_column(Integer)  # rank in the skill's framework scale

    skill: Mapped[Skill] = relationship(lazy="joined")


class ActivityOutcome(db.Model):
    """A skill, and the level of it, that passing an activity (a lab, a quiz) shows."""

    __tablename__ = "activity_outcomes"
    __table_args__ = (CheckConstraint("level >= 1", name="level_positive"),)

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[int] = mapped_column(
        ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    level: Mapped[int] = mapped_column(Integer)

    skill: Mapped[Skill] = relationship(lazy="joined")


# --- full-text search over labels (see lms.skills.search) ----------------------------------------
# SQLite: two FTS5 indexes kept in step with ``skills`` by triggers. ``skills_fts`` stems words
# (Porter) for suggestions from pasted text; ``skills_prefix_fts`` keeps words whole, with prefix
# indexes, for type-ahead (a stemmed index cannot match "managem" against "management").
# PostgreSQL: two GIN expression indexes, English (weighted: preferred label A, alt labels B) for
# suggestions and 'simple' for prefix type-ahead. The migration creates the same objects.
SQLITE_SEARCH_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS skills_fts USING fts5(preferred_label, alt_labels, "
    "content='skills', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS skills_prefix_fts USING fts5(preferred_label, alt_labels, "
    "content='skills', content_rowid='id', tokenize='unicode61 remove_diacritics 2', "
    "prefix='2 3 4')",
    "CREATE TRIGGER IF NOT EXISTS skills_fts_ai AFTER INSERT ON skills BEGIN "
    "INSERT INTO skills_fts(rowid, preferred_label, alt_labels) "
    "VALUES (new.id, new.preferred_label, new.alt_labels); "
    "INSERT INTO skills_prefix_fts(rowid, preferred_label, alt_labels) "
    "VALUES (new.id, new.preferred_label, new.alt_labels); END",
    "CREATE TRIGGER IF NOT EXISTS skills_fts_ad AFTER DELETE ON skills BEGIN "
    "INSERT INTO skills_fts(skills_fts, rowid, preferred_label, alt_labels) "
    "VALUES ('delete', old.id, old.preferred_label, old.alt_labels); "
    "INSERT INTO skills_prefix_fts(skills_prefix_fts, rowid, preferred_label, alt_labels) "
    "VALUES ('delete', old.id, old.preferred_label, old.alt_labels); END",
    "CREATE TRIGGER IF NOT EXISTS skills_fts_au AFTER UPDATE OF preferred_label, alt_labels "
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
for _statement in SQLITE_SEARCH_DDL:
    event.listen(Skill.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in SQLITE_SEARCH_DROP:
    event.listen(Skill.__table__, "before_drop", DDL(_statement).execute_if(dialect="sqlite"))
