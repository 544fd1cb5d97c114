"""Demand: job roles an organization needs people for, with their skills and levels.

Services validate everything before writing anything and flush, never commit; a bad role
(negative headcount, past date, unknown skill, level outside the scale) raises
:class:`~lms.skills.services.SkillError` naming the field.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.extensions import db
from lms.models import Department, Organization, User
from lms.skills.gap_models import ROLE_DESCRIPTION_MAX, ROLE_TITLE_MAX, JobRole, RoleSkill
from lms.skills.models import ProficiencyLevel, Skill, SkillKind
from lms.skills.queries import skill_by_uri
from lms.skills.services import SkillError

MAX_HEADCOUNT = 100_000
MAX_ROLE_SKILLS = 60


@dataclass(frozen=True)
class RoleData:
    """A job role as typed in the form or sent to the API (not yet validated)."""

    title: str
    headcount: int | None
    needed_by: date | None
    description: str = ""
    department_id: int | None = None
    skills: Sequence[tuple[int, int]] = ()  # (skill id, level rank)


def check_levels(pairs: Sequence[tuple[int, int]]) -> dict[int, Skill]:
    """The skills of ``pairs``, each level checked against its framework's scale."""
    ids = [skill_id for skill_id, _ in pairs]
    if len(ids) != len(set(ids)):
        raise SkillError("Each skill can be required once per role.", "skills")
    skills = {
        s.id: s
        for s in db.session.scalars(
            select(Skill).where(Skill.id.in_(ids), Skill.kind == SkillKind.SKILL)
        )
    }
    unknown = [str(i) for i in ids if i not in skills]
    if unknown:
        raise SkillError(f"Unknown skill id: {', '.join(unknown)}.", "skills")
    ranks: dict[int, set[int]] = {}
    for framework_id, rank in db.session.execute(
        select(ProficiencyLevel.framework_id, ProficiencyLevel.rank).where(
            ProficiencyLevel.framework_id.in_({s.framework_id for s in skills.values()})
        )
    ):
        ranks.setdefault(framework_id, set()).add(rank)
    for skill_id, level in pairs:
        skill = skills[skill_id]
        if level not in ranks.get(skill.framework_id, set()):
            raise SkillError(
                f"Level {level} is outside the scale of “{skill.preferred_label}”.", "skills"
            )
    return skills


def _validate(org: Organization, data: RoleData, today: date) -> None:
    title = data.title.strip()
    if not title:
        raise SkillError("Give the role a title, e.g. “Quality data analyst”.", "title")
    if len(title) > ROLE_TITLE_MAX:
        raise SkillError(f"Keep the title under {ROLE_TITLE_MAX} characters.", "title")
    if data.headcount is None or data.headcount < 1:
        raise SkillError("Say how many people you need: a whole number of 1 or more.", "headcount")
    if data.headcount > MAX_HEADCOUNT:
        raise SkillError(f"A headcount above {MAX_HEADCOUNT:,} is not plausible.", "headcount")
    if data.needed_by is None:
        raise SkillError("Say by when you need them.", "needed_by")
    if data.needed_by < today:
        raise SkillError("The date is in the past: choose today or a later date.", "needed_by")
    if len(data.description) > ROLE_DESCRIPTION_MAX:
        raise SkillError(
            f"The description is {len(data.description):,} characters long; keep at most "
            f"{ROLE_DESCRIPTION_MAX:,}.",
            "description",
        )
    if data.department_id is not None:
        department = db.session.get(Department, data.department_id)
        if department is None or department.organization_id != org.id:
            raise SkillError("Choose one of your organization's departments.", "department_id")
    if not data.skills:
        raise SkillError("Confirm at least one skill the role requires.", "skills")
    if len(data.skills) > MAX_ROLE_SKILLS:
        raise SkillError(f"A role can require at most {MAX_ROLE_SKILLS} skills.", "skills")
    check_levels(data.skills)


def save_job_role(
    org: Organization, data: RoleData, by: User | None, today: date, role: JobRole | None = None
) -> JobRole:
    """Create (or replace the content of) a job role of ``org``; all or nothing."""
    _validate(org, data, today)
    if role is None:
        role = JobRole(organization_id=org.id, created_by_id=by.id if by else None)
        db.session.add(role)
    role.title = data.title.strip()
    role.headcount = data.headcount
    role.needed_by = data.needed_by
    role.description = data.description.strip()
    role.department_id = data.department_id
    role.skills = [RoleSkill(skill_id=s, level=lv) for s, lv in data.skills]
    db.session.flush()
    return role


def delete_job_role(role: JobRole) -> None:
    """Remove a job role and its required skills."""
    db.session.delete(role)
    db.session.flush()


def org_roles(org_id: int) -> list[JobRole]:
    """The organization's job roles, soonest first, with their skills (two queries)."""
    return list(
        db.session.scalars(
            select(JobRole)
            .where(JobRole.organization_id == org_id)
            .options(selectinload(JobRole.skills))
            .order_by(JobRole.needed_by, JobRole.title)
        )
    )


# --- regional demand from CSV ----------------------------------------------------------------
REGIONAL_COLUMNS = ("region", "role", "skill_uri", "level", "headcount", "needed_by")
MAX_IMPORT_BYTES = 2_000_000


def _line_error(line: int, message: str) -> SkillError:
    return SkillError(f"Line {line}: {message}", "file")


def _parse_regional(text: str, today: date) -> dict[tuple[str, str], dict]:
    """Roles keyed by (region, role title), each with headcount, date and {skill id: level}."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REGIONAL_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise SkillError(
            f"The file has no {', '.join(missing)} column. Expected columns: "
            f"{', '.join(REGIONAL_COLUMNS)}.",
            "file",
        )
    uris = {}
    roles: dict[tuple[str, str], dict] = {}
    for line, row in enumerate(reader, start=2):
        region, title, headcount, needed_by = _regional_role(line, row, today)
        role = roles.setdefault(
            (region, title), {"headcount": headcount, "needed_by": needed_by, "skills": {}}
        )
        if (role["headcount"], role["needed_by"]) != (headcount, needed_by):
            raise _line_error(line, f"“{title}” in {region} has another headcount or date above.")
        uris[line] = ((row["skill_uri"] or "").strip(), (row["level"] or "").strip().lower(), role)
    if not roles:
        raise SkillError("The file has no rows of demand.", "file")
    for line, (uri, level_raw, role) in uris.items():
        skill, level = _regional_skill(line, uri, level_raw)
        if skill.id in role["skills"]:
            raise _line_error(line, f"the skill {uri} appears twice for this role.")
        role["skills"][skill.id] = level
    return roles


def _regional_role(line: int, row: dict, today: date) -> tuple[str, str, int, date]:
    """Region, role title, headcount and date of one row, each checked."""
    region, title = (row["region"] or "").strip(), (row["role"] or "").strip()
    if not region or not title:
        raise _line_error(line, "region and role must not be empty.")
    if len(region) > 200 or len(title) > ROLE_TITLE_MAX:
        raise _line_error(line, "region or role is too long.")
    raw_count = (row["headcount"] or "").strip()
    try:
        headcount = int(raw_count) if raw_count.isascii() and len(raw_count) < 10 else None
        if headcount is None:
            raise ValueError
    except ValueError:
        raise _line_error(line, "headcount must be a whole number.") from None
    if not 1 <= headcount <= MAX_HEADCOUNT:
        raise _line_error(line, "headcount must be 1 or more.")
    try:
        needed_by = date.fromisoformat((row["needed_by"] or "").strip())
    except ValueError:
        raise _line_error(line, "needed_by must be a date like 2027-06-30.") from None
    if needed_by < today:
        raise _line_error(line, f"needed_by {needed_by.isoformat()} is in the past.")
    return region, title, headcount, needed_by


def _regional_skill(line: int, uri: str, level_raw: str):
    """The skill a row names and the level it asks for (a rank or a level name of its scale)."""
    skill = skill_by_uri(uri)
    if skill is None:
        raise _line_error(line, f"unknown skill URI {uri[:120]!r}.")
    scale = {lv.name.lower(): lv.rank for lv in skill.framework.levels}
    level = int(level_raw) if level_raw.isascii() and level_raw.isdigit() else scale.get(level_raw)
    if level not in scale.values():
        raise _line_error(line, f"level {level_raw!r} is outside the skill's scale.")
    return skill, level


def import_regional_demand(raw: bytes, today: date, by: User | None) -> int:
    """Load regional demand from CSV (one line per role and skill); all or nothing.

    Idempotent: a role already imported for the same region is replaced by the file's version.
    Returns the number of roles written.
    """
    if not raw:
        raise SkillError("The file is empty.", "file")
    if len(raw) > MAX_IMPORT_BYTES:
        raise SkillError("The file is larger than 2 MB.", "file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SkillError("The file is not UTF-8 text (save it as CSV UTF-8).", "file") from None

    try:
        roles = _parse_regional(text, today)
    except csv.Error as exc:
        raise SkillError(f"The file is not valid CSV: {exc}.", "file") from None
    existing = {
        (r.region, r.title): r
        for r in db.session.scalars(select(JobRole).where(JobRole.organization_id.is_(None)))
    }
    for (region, title), data in roles.items():
        role = existing.get((region, title))
        if role is None:
            role = JobRole(region=region, title=title, created_by_id=by.id if by else None)
            db.session.add(role)
        else:  # delete the old skills first: the new rows reuse their primary keys
            role.skills = []
            db.session.flush()
        role.headcount, role.needed_by = data["headcount"], data["needed_by"]
        role.skills = [RoleSkill(skill_id=s, level=lv) for s, lv in data["skills"].items()]
    db.session.flush()
    return len(roles)
