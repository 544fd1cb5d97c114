"""The skills gap: demand, supply and pipeline per demanded skill and level.

:func:`gap_rows` serves the HR page, the cluster page, the exports and ``GET /api/v1/skills/gaps``
alike, so they cannot disagree. Its number of SQL statements is constant (one for the figures,
one or three for lapsed evidence), whatever the number of employees:

- **demand**: the headcount of the job roles requiring the skill at the level (earliest date);
- **supply**: people of the organization (or of the cluster) holding it at or above the level now
  (validated or earned, see :func:`lms.skills.supply.held_levels`), read from the counts stored
  per organization, skill and level (:mod:`lms.skills.holders`), corrected for evidence lapsed
  since their last sync;
- **pipeline**: people not yet holding it, enrolled (active, not completed) in a published course
  whose outcome reaches the level, expected to finish by the date: the due date of a program
  assigning the course is on or before it, or no program sets a date for them (read from the
  same stored counts, per level and due date);
- **gap** = demand − supply − pipeline (never below zero).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, time

from sqlalchemy import and_, case, exists, func, select

from lms.domain.models import Course, CoursePartner, CourseStatus
from lms.extensions import db
from lms.models import Membership, Organization, User
from lms.skills.gap_models import JobRole, RoleSkill
from lms.skills.holder_models import HoldingKind, SkillHolderCount, org_scope
from lms.skills.holders import lapse_correction
from lms.skills.models import CourseOutcome, Framework, ProficiencyLevel, Skill
from lms.skills.supply import held_levels
from lms.timeutil import utcnow

SORTS = {"gap", "demand", "supply", "pipeline", "date", "skill"}


@dataclass(frozen=True)
class GapFilters:
    """Filters of the gap table (all optional)."""

    department_id: int | None = None
    role_id: int | None = None
    skill_id: int | None = None
    # Only these skills (the HR page's cluster column: the skills the organization demands).
    skill_ids: tuple[int, ...] | None = None
    before: date | None = None  # demand needed on or before this date
    sort: str = "gap"
    descending: bool = True


@dataclass(frozen=True)
class GapRow:
    """One demanded skill at one level, with its figures."""

    skill_id: int
    uri: str
    label: str
    level: int
    level_name: str
    needed_by: date
    demand: int
    supply: int
    pipeline: int

    @property
    def gap(self) -> int:
        """Demand not met by people who hold or are training for the skill."""
        return max(0, self.demand - self.supply - self.pipeline)

    def as_json(self) -> dict:
        """The API form of the row (the same figures as the page)."""
        data = asdict(self)
        data["needed_by"] = self.needed_by.isoformat()
        data["gap"] = self.gap
        return data


def _demand(org_id: int | None, filters: GapFilters):
    """Demanded (skill, level): headcount and the earliest date, after the filters (a CTE)."""
    stmt = select(
        RoleSkill.skill_id,
        RoleSkill.level,
        func.sum(JobRole.headcount).label("demand"),
        func.min(JobRole.needed_by).label("needed_by"),
    ).join(JobRole, JobRole.id == RoleSkill.role_id)
    if org_id is not None:
        stmt = stmt.where(JobRole.organization_id == org_id)
    if filters.department_id is not None:
        stmt = stmt.where(JobRole.department_id == filters.department_id)
    if filters.role_id is not None:
        stmt = stmt.where(JobRole.id == filters.role_id)
    if filters.skill_id is not None:
        stmt = stmt.where(RoleSkill.skill_id == filters.skill_id)
    if filters.skill_ids is not None:
        stmt = stmt.where(RoleSkill.skill_id.in_(filters.skill_ids))
    if filters.before is not None:
        stmt = stmt.where(JobRole.needed_by <= filters.before)
    return stmt.group_by(RoleSkill.skill_id, RoleSkill.level).cte("d")


def _supply(d, scope: str):
    """People of ``scope`` at or above each demanded level, from the stored counts (one row per
    level held), so the work follows the number of skills and levels, not of people."""
    c = SkillHolderCount
    return (
        select(d.c.skill_id, d.c.level, func.sum(c.people).label("n"))
        .select_from(d)
        .join(
            c,
            and_(
                c.scope == scope,
                c.skill_id == d.c.skill_id,
                c.kind == HoldingKind.HELD,
                c.level >= d.c.level,
            ),
        )
        .group_by(d.c.skill_id, d.c.level)
        .subquery("supply")
    )


def _pipeline(d, scope: str):
    """People of ``scope`` below each demanded level, training for it and due by its date, from
    the stored counts (one row per level and due date)."""
    c = SkillHolderCount
    return (
        select(d.c.skill_id, d.c.level, func.sum(c.people).label("n"))
        .select_from(d)
        .join(
            c,
            and_(
                c.scope == scope,
                c.skill_id == d.c.skill_id,
                c.kind == HoldingKind.PIPELINE,
                c.level == d.c.level,
                c.due_on <= d.c.needed_by,
            ),
        )
        .group_by(d.c.skill_id, d.c.level)
        .subquery("pipeline")
    )


def _figures(d, supply, pipeline) -> list[GapRow]:
    """One row per demanded (skill, level) with its label, level name and figures."""
    stmt = (
        select(
            d.c.skill_id,
            Skill.uri,
            Skill.preferred_label,
            d.c.level,
            ProficiencyLevel.name,
            d.c.needed_by,
            d.c.demand,
            supply.c.n,
            pipeline.c.n,
        )
        .select_from(d)
        .join(Skill, Skill.id == d.c.skill_id)
        .join(Framework, Framework.id == Skill.framework_id)
        .outerjoin(
            ProficiencyLevel,
            and_(ProficiencyLevel.framework_id == Framework.id, ProficiencyLevel.rank == d.c.level),
        )
        .outerjoin(supply, and_(supply.c.skill_id == d.c.skill_id, supply.c.level == d.c.level))
        .outerjoin(
            pipeline, and_(pipeline.c.skill_id == d.c.skill_id, pipeline.c.level == d.c.level)
        )
    )
    return [
        GapRow(r[0], r[1], r[2], r[3], r[4] or str(r[3]), _as_date(r[5]), int(r[6] or 0),
               int(r[7] or 0), int(r[8] or 0))
        for r in db.session.execute(stmt)
    ]  # fmt: skip


def _with_lapses(rows: list[GapRow], scope: str, now: datetime) -> list[GapRow]:
    """Supply corrected for evidence that lapsed since the counts were last synced."""
    correction = lapse_correction(scope, {r.skill_id for r in rows}, now) if rows else {}
    if not correction:
        return rows
    return [
        replace(
            r,
            supply=max(
                0,
                r.supply
                + sum(
                    n
                    for (skill, level), n in correction.items()
                    if skill == r.skill_id and level >= r.level
                ),
            ),
        )  # fmt: skip
        for r in rows
    ]


def gap_rows(org_id: int | None, filters: GapFilters, now: datetime | None = None) -> list[GapRow]:
    """Demand, supply and pipeline per demanded (skill, level) of ``org_id`` (None: the cluster)."""
    now = now or utcnow()
    scope = org_scope(org_id)
    d = _demand(org_id, filters)
    rows = _figures(d, _supply(d, scope), _pipeline(d, scope))
    return sort_rows(_with_lapses(rows, scope, now), filters.sort, filters.descending)


def _as_date(value) -> date:
    # SQLite hands back an aggregate of a DATE column as text.
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        return value.date()
    return value


def sort_rows(rows: list[GapRow], key: str, descending: bool) -> list[GapRow]:
    """Rows sorted by a column of the table (ties by skill label, then level)."""
    key = key if key in SORTS else "gap"
    getters = {
        "gap": lambda r: r.gap,
        "demand": lambda r: r.demand,
        "supply": lambda r: r.supply,
        "pipeline": lambda r: r.pipeline,
        "date": lambda r: r.needed_by,
        "skill": lambda r: r.label.lower(),
    }
    rows = sorted(rows, key=lambda r: (r.label.lower(), r.level))
    return sorted(rows, key=getters[key], reverse=descending)


# --- closing a gap ---------------------------------------------------------------------------
def covering_courses(skill_id: int, level: int) -> list[dict]:
    """Published courses whose outcome reaches ``level`` of the skill; co-designed ones first."""
    partners = (
        select(func.count(CoursePartner.id))
        .where(CoursePartner.course_id == Course.id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Course.id, Course.slug, Course.title, CourseOutcome.level, partners.label("n"))
        .join(CourseOutcome, CourseOutcome.course_id == Course.id)
        .where(
            CourseOutcome.skill_id == skill_id,
            CourseOutcome.level >= level,
            Course.status == CourseStatus.PUBLISHED,
        )
        .order_by(case((partners > 1, 0), else_=1), CourseOutcome.level, Course.title)
    ).all()
    return [
        {"id": r.id, "slug": r.slug, "title": r.title, "level": r.level, "co_designed": r.n > 1}
        for r in rows
    ]


def closest_employees(
    org_id: int, skill_id: int, level: int, now: datetime | None = None, limit: int = 15
) -> list[dict]:
    """Employees who do not hold the level yet, closest first (current level, then name)."""
    now = now or utcnow()
    learners = select(Membership.user_id).where(
        Membership.organization_id == org_id, Membership.role == "learner"
    )
    held = held_levels(now, users=learners, skills=[skill_id]).subquery("held")
    current = func.coalesce(held.c.level, 0)
    rows = db.session.execute(
        select(User.id, User.name, User.email, current.label("level"))
        .outerjoin(held, and_(held.c.user_id == User.id, held.c.skill_id == skill_id))
        .where(User.id.in_(learners), current < level, User.active.is_(True))
        .order_by(current.desc(), User.name)
        .limit(limit)
    ).all()
    return [{"id": r.id, "name": r.name, "email": r.email, "level": r.level} for r in rows]


def demand_date_end(value: date) -> datetime:
    """The moment a demand date ends (programs are due at the end of that day)."""
    return datetime.combine(value, time.max)


def _uncovered_statement():
    """Demanded (skill, level) per organization or region with no published course reaching it,
    with the headcount and the earliest date, soonest first."""
    covered = (
        select(CourseOutcome.course_id)
        .join(Course, Course.id == CourseOutcome.course_id)
        .where(
            CourseOutcome.skill_id == RoleSkill.skill_id,
            CourseOutcome.level >= RoleSkill.level,
            Course.status == CourseStatus.PUBLISHED,
        )
    )
    who = (JobRole.organization_id, Organization.name, JobRole.region)
    what = (RoleSkill.skill_id, Skill.preferred_label, RoleSkill.level, ProficiencyLevel.name)
    return (
        select(
            JobRole.organization_id,
            func.coalesce(Organization.name, JobRole.region).label("demanded_by"),
            *what,
            func.sum(JobRole.headcount).label("headcount"),
            func.min(JobRole.needed_by).label("needed_by"),
        )
        .join(JobRole, JobRole.id == RoleSkill.role_id)
        .join(Skill, Skill.id == RoleSkill.skill_id)
        .outerjoin(Organization, Organization.id == JobRole.organization_id)
        .outerjoin(
            ProficiencyLevel,
            and_(
                ProficiencyLevel.framework_id == Skill.framework_id,
                ProficiencyLevel.rank == RoleSkill.level,
            ),
        )
        .where(~exists(covered))
        .group_by(*who, *what)
        .order_by(func.min(JobRole.needed_by), Skill.preferred_label)
    )


def uncovered_demand() -> list[dict]:
    """Demanded (skill, level) per organization or region that no published course reaches
    (one query): the signal for the cluster's universities to co-design a course."""
    return [
        {
            "organization_id": r[0],
            "demanded_by": r[1],
            "skill_id": r[2],
            "label": r[3],
            "level": r[4],
            "level_name": r[5] or str(r[4]),
            "headcount": int(r[6]),
            "needed_by": _as_date(r[7]),
        }
        for r in db.session.execute(_uncovered_statement()).all()
    ]
