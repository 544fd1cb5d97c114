"""Skill services: frameworks and their scales, cluster skills, and course/activity outcomes.

Services flush, never commit: the request (or the CLI command) commits once at the end.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from lms.errors import DomainError
from lms.extensions import db
from lms.skills.models import (
    DEFAULT_SCALE,
    ActivityOutcome,
    CourseOutcome,
    Framework,
    FrameworkSource,
    ProficiencyLevel,
    Skill,
    SkillKind,
)

if TYPE_CHECKING:  # the course models import this package's models, not its services
    from lms.domain.models import Activity, Course

#: The framework that holds the cluster's own skills (and the old free course skill tags).
CLUSTER_FRAMEWORK_SLUG = "cluster"
CLUSTER_FRAMEWORK_URI = "urn:educluster:framework:cluster"
#: Local skills (without an ESCO or other URI of their own) get URIs under this prefix.
LOCAL_SKILL_URI_PREFIX = "urn:educluster:skill:"
#: A course's declared level, as a level of the default scale, for outcomes given without one.
COURSE_LEVEL_RANKS = {"beginner": 1, "intermediate": 2, "advanced": 3}


class SkillError(DomainError):
    """Bad skill data (an unknown skill, a level outside the scale...); the message says which."""


def slug_for_uri(label: str) -> str:
    """A URI-safe slug of ``label`` ("Statistical process control" -> "statistical-process-control")."""
    text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:120] or "skill"


def create_framework(
    slug: str,
    name: str,
    uri: str,
    scale: Sequence[str] = DEFAULT_SCALE,
    description: str = "",
    source: str = FrameworkSource.LOCAL,
) -> Framework:
    """A new framework with its proficiency scale (lowest level first)."""
    if not scale:
        raise SkillError("A proficiency scale needs at least one level.", "scale")
    names = [" ".join(level.split()) for level in scale]
    if any(not n for n in names) or len({n.lower() for n in names}) != len(names):
        raise SkillError("Scale levels must be named, each name once.", "scale")
    framework = Framework(slug=slug, name=name, uri=uri, description=description, source=source)
    framework.levels = [
        ProficiencyLevel(rank=i, name=n, is_default=i == 1) for i, n in enumerate(names, 1)
    ]
    db.session.add(framework)
    db.session.flush()
    return framework


def framework_by_slug(slug: str) -> Framework | None:
    """The framework with ``slug``, or None."""
    return db.session.scalar(select(Framework).where(Framework.slug == slug))


def cluster_framework() -> Framework:
    """The cluster's own framework, created (with the default scale) the first time it is needed."""
    framework = framework_by_slug(CLUSTER_FRAMEWORK_SLUG)
    if framework is None:
        framework = create_framework(
            CLUSTER_FRAMEWORK_SLUG,
            "Cluster skills",
            CLUSTER_FRAMEWORK_URI,
            description="The skills the cluster's partners teach and ask for.",
        )
    return framework


def cluster_skills_for_labels(labels: Iterable[str]) -> list[Skill]:
    """Skills of the cluster framework labelled ``labels`` (case-insensitively), creating the
    missing ones with a local URI; in the order given, without repeats."""
    wanted: dict[str, str] = {}
    for label in labels:
        clean = " ".join(label.split())
        if clean and clean.lower() not in wanted:
            wanted[clean.lower()] = clean
    if not wanted:
        return []
    framework = cluster_framework()
    existing = {
        s.preferred_label.lower(): s
        for s in db.session.scalars(
            select(Skill).where(
                Skill.framework_id == framework.id,
                func.lower(Skill.preferred_label).in_(list(wanted)),
            )
        )
    }
    skills = []
    for key, label in wanted.items():
        skill = existing.get(key)
        if skill is None:
            skill = Skill(
                framework_id=framework.id,
                kind=SkillKind.SKILL,
                uri=unique_local_uri(framework.id, label),
                preferred_label=label,
            )
            db.session.add(skill)
            db.session.flush()
        skills.append(skill)
    return skills


def unique_local_uri(framework_id: int, label: str) -> str:
    """A URI for a new local skill of ``label`` not yet used in the framework."""
    base = LOCAL_SKILL_URI_PREFIX + slug_for_uri(label)
    taken = set(
        db.session.scalars(
            select(Skill.uri).where(Skill.framework_id == framework_id, Skill.uri.like(base + "%"))
        )
    )
    uri, n = base, 2
    while uri in taken:
        uri, n = f"{base}-{n}", n + 1
    return uri


def check_level(skill: Skill, level: int) -> int:
    """``level`` if it is a rank of the skill's framework scale, else a :class:`SkillError`."""
    ranks = [lv.rank for lv in skill.framework.levels]
    if level not in ranks:
        names = ", ".join(f"{lv.rank} ({lv.name})" for lv in skill.framework.levels)
        raise SkillError(
            f"Level {level} is not on the scale of “{skill.framework.name}”: use one of {names}.",
            "level",
        )
    if skill.kind != SkillKind.SKILL:
        raise SkillError(f"“{skill.preferred_label}” is a category, not a skill.", "skill")
    return level


def _replace_outcomes(
    owner: Course | Activity, model: type, outcomes: Sequence[tuple[Skill, int]]
) -> bool:
    """Update ``owner.outcomes`` in place to ``outcomes``; whether anything changed."""
    wanted: dict[int, int] = {}
    for skill, level in outcomes:
        wanted[skill.id] = check_level(skill, level)
    current = {o.skill_id: o for o in owner.outcomes}
    if wanted == {sid: o.level for sid, o in current.items()}:
        return False
    for sid, outcome in current.items():
        if sid not in wanted:
            owner.outcomes.remove(outcome)
        else:
            outcome.level = wanted[sid]
    for sid, level in wanted.items():
        if sid not in current:
            owner.outcomes.append(model(skill_id=sid, level=level))
    db.session.flush()
    return True


def set_course_outcomes(course: Course, outcomes: Sequence[tuple[Skill, int]]) -> bool:
    """Make ``outcomes`` (skill, level rank) the course's outcomes; whether anything changed."""
    changed = _replace_outcomes(course, CourseOutcome, outcomes)
    if changed:
        db.session.expire(course, ["skills"])
    return changed


def set_activity_outcomes(activity: Activity, outcomes: Sequence[tuple[Skill, int]]) -> bool:
    """Make ``outcomes`` (skill, level rank) the activity's outcomes; whether anything changed."""
    return _replace_outcomes(activity, ActivityOutcome, outcomes)


# --- outcomes in course archives ------------------------------------------------------------------
def outcomes_to_json(outcomes: Sequence[CourseOutcome] | Sequence[ActivityOutcome]) -> list[dict]:
    """Outcomes as archive data: the skill by URI (with its label and framework, so another site
    can recreate it) and the level by rank and name."""
    return [
        {
            "skill": o.skill.uri,
            "label": o.skill.preferred_label,
            "framework": o.skill.framework.uri,
            "level": o.level,
            "level_name": o.skill.framework.level_name(o.level),
        }
        for o in sorted(outcomes, key=lambda o: o.skill.uri)
    ]


def _skill_for_archive(item: dict) -> Skill:
    skill = db.session.scalar(
        select(Skill)
        .join(Framework, Framework.id == Skill.framework_id)
        .where(Framework.uri == item.get("framework", ""), Skill.uri == item["skill"])
    )
    if skill is None:  # the same concept in another framework of this site (cluster first)
        skill = db.session.scalar(
            select(Skill)
            .join(Framework, Framework.id == Skill.framework_id)
            .where(Skill.uri == item["skill"], Skill.kind == SkillKind.SKILL)
            .order_by((Framework.slug == CLUSTER_FRAMEWORK_SLUG).desc(), Skill.id)
            .limit(1)
        )
    if skill is None:  # unknown here: it joins the cluster framework, URI and label kept
        skill = Skill(
            framework_id=cluster_framework().id,
            kind=SkillKind.SKILL,
            uri=item["skill"],
            preferred_label=item["label"],
        )
        db.session.add(skill)
        db.session.flush()
    return skill


def outcomes_from_json(items: list[dict]) -> list[tuple[Skill, int]]:
    """(skill, level) for archived outcomes: the level by name when this site's scale has it,
    else by rank; a level outside the scale is refused."""
    result = []
    for item in items:
        skill = _skill_for_archive(item)
        levels = skill.framework.levels
        by_name = {lv.name.lower(): lv.rank for lv in levels}
        level = by_name.get(str(item.get("level_name", "")).lower(), item["level"])
        if level not in {lv.rank for lv in levels}:
            raise SkillError(
                f"The outcome “{item['label']}” is at level {item['level']}, which is not on "
                f"the scale of “{skill.framework.name}” here."
            )
        result.append((skill, level))
    return result
