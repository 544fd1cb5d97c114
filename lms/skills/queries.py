"""Read side of skills: frameworks with their sizes, skills by id or URI, outcomes to show."""

from __future__ import annotations

from sqlalchemy import Row, func, select

from lms.extensions import db
from lms.skills.models import (
    ActivityOutcome,
    CourseOutcome,
    Framework,
    ProficiencyLevel,
    Skill,
    SkillKind,
)


def framework_summaries() -> list[Row]:
    """Every framework with its number of skills (one query)."""
    count = (
        select(func.count(Skill.id))
        .where(Skill.framework_id == Framework.id, Skill.kind == SkillKind.SKILL)
        .scalar_subquery()
    )
    return list(
        db.session.execute(
            select(
                Framework.id,
                Framework.slug,
                Framework.name,
                Framework.source,
                count.label("skills"),
            ).order_by(Framework.name)
        )
    )


def skills_version() -> tuple:
    """Changes whenever skills are added, removed or relabelled: the number of skills, the
    highest id and the last framework update (importers touch it). Keys in-memory indexes."""
    row = db.session.execute(
        select(func.count(Skill.id), func.max(Skill.id)).where(Skill.kind == SkillKind.SKILL)
    ).one()
    return (*row, db.session.scalar(select(func.max(Framework.updated_at))))


def skills_by_ids(ids: list[int]) -> dict[int, Skill]:
    """The skills with ``ids`` (unknown ids are simply absent), their frameworks loaded."""
    if not ids:
        return {}
    rows = db.session.scalars(select(Skill).where(Skill.id.in_(set(ids))))
    return {s.id: s for s in rows}


def skill_by_uri(uri: str) -> Skill | None:
    """A skill with ``uri``; the cluster's own framework first, then ESCO, then any other."""
    return db.session.scalar(
        select(Skill)
        .join(Framework, Framework.id == Skill.framework_id)
        .where(Skill.uri == uri, Skill.kind == SkillKind.SKILL)
        .order_by(
            (Framework.slug == "cluster").desc(), (Framework.source == "esco").desc(), Skill.id
        )
        .limit(1)
    )


def outcome_rows(outcomes: list[CourseOutcome] | list[ActivityOutcome]) -> list[dict]:
    """Outcomes as dicts for templates and JSON: skill, its framework, level rank and name."""
    rows = []
    for outcome in outcomes:
        skill = outcome.skill
        framework = skill.framework
        rows.append(
            {
                "skill_id": skill.id,
                "uri": skill.uri,
                "label": skill.preferred_label,
                "framework": framework.name,
                "esco": framework.is_esco or skill.uri.startswith("http://data.europa.eu/esco/"),
                "level": outcome.level,
                "level_name": framework.level_name(outcome.level),
            }
        )
    rows.sort(key=lambda r: (-r["level"], r["label"].lower()))
    return rows


def course_skill_choices() -> list[tuple[int, str]]:
    """(skill id, label) of the skills some course develops, for the catalog's skill filter."""
    # Plain tuples: Row objects are already tuple-like (``Result.tuples()`` is deprecated).
    return [
        (skill_id, label)
        for skill_id, label in db.session.execute(
            select(Skill.id, Skill.preferred_label)
            .where(Skill.id.in_(select(CourseOutcome.skill_id)))
            .order_by(func.lower(Skill.preferred_label))
        )
    ]


def framework_ids_for(slugs: list[str]) -> list[int]:
    """Ids of the frameworks with these slugs (unknown slugs are left out)."""
    return list(db.session.scalars(select(Framework.id).where(Framework.slug.in_(slugs))))


def skill_scales(skill_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    """(rank, name) of each skill's framework scale, lowest first, for level selects (one
    query whatever the number of skills)."""
    if not skill_ids:
        return {}
    rows = db.session.execute(
        select(Skill.id, ProficiencyLevel.rank, ProficiencyLevel.name)
        .join(ProficiencyLevel, ProficiencyLevel.framework_id == Skill.framework_id)
        .where(Skill.id.in_(skill_ids))
        .order_by(ProficiencyLevel.rank)
    )
    scales: dict[int, list[tuple[int, str]]] = {}
    for skill_id, rank, name in rows:
        scales.setdefault(skill_id, []).append((rank, name))
    return scales
