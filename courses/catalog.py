"""Read-side queries: the catalog, the authoring list, a course with its structure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from lms.domain.models import (
    Activity,
    Course,
    CoursePartner,
    CourseStatus,
    Enrolment,
    EnrolmentStatus,
    Module,
    Visibility,
)
from lms.extensions import db
from lms.models import Organization, Role, User
from lms.skills.models import CourseOutcome, Framework, Skill
from lms.skills.queries import course_skill_choices


@dataclass
class CatalogFilters:
    """Search text and filters of the course catalog."""

    q: str = ""
    skill: str = ""
    org: str = ""
    level: str = ""
    language: str = ""


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def visible_courses(user: User) -> Select:
    """Courses ``user`` may see in the catalog: published ones open to them, plus the drafts and
    reviews of the courses they author or administer (set-based, one statement)."""
    stmt = select(Course)
    if user.is_site_admin:
        return stmt.where(Course.status != CourseStatus.ARCHIVED)
    org_ids = user.organization_ids() or {-1}
    staff_orgs = user.organization_ids(Role.TRAINER, Role.ORG_ADMIN) or {-1}
    partner_of = exists().where(
        CoursePartner.course_id == Course.id, CoursePartner.organization_id.in_(org_ids)
    )
    staff_of = exists().where(
        CoursePartner.course_id == Course.id, CoursePartner.organization_id.in_(staff_orgs)
    )
    open_to_user = and_(
        Course.status == CourseStatus.PUBLISHED,
        or_(Course.visibility == Visibility.CLUSTER, partner_of),
    )
    authoring = and_(Course.status != CourseStatus.ARCHIVED, staff_of)
    return stmt.where(or_(open_to_user, authoring))


#: A skill filter that is a skill id (else it is a label); ASCII digits only: "²".isdigit().
SKILL_ID_RE = re.compile(r"[0-9]{1,9}")


def catalog_query(user: User, filters: CatalogFilters) -> Select:
    """Courses the user may see in the catalog, filtered."""
    stmt = visible_courses(user)
    if filters.q:
        like = _like(filters.q.strip())
        stmt = stmt.where(
            or_(Course.title.ilike(like, escape="\\"), Course.summary.ilike(like, escape="\\"))
        )
    if filters.skill:
        stmt = stmt.where(
            exists()
            .where(CourseOutcome.course_id == Course.id)
            .where(CourseOutcome.skill_id == Skill.id)
            .where(
                Skill.id == int(filters.skill)
                if SKILL_ID_RE.fullmatch(filters.skill)
                else func.lower(Skill.preferred_label) == filters.skill.lower()
            )
        )
    if filters.org:
        stmt = stmt.where(
            exists()
            .where(CoursePartner.course_id == Course.id)
            .where(CoursePartner.organization_id == Organization.id)
            .where(Organization.slug == filters.org)
        )
    if filters.level:
        stmt = stmt.where(Course.level == filters.level)
    if filters.language:
        stmt = stmt.where(Course.language == filters.language)
    return stmt.options(
        selectinload(Course.partners).joinedload(CoursePartner.organization),
        selectinload(Course.skills),
    ).order_by(Course.title, Course.id)


def filter_choices() -> dict[str, list]:
    """Skills, organizations and languages that occur, for the filter selects."""
    skills = course_skill_choices()
    orgs = list(
        db.session.execute(select(Organization.slug, Organization.name).order_by(Organization.name))
    )
    languages = list(
        db.session.scalars(select(Course.language).distinct().order_by(Course.language))
    )
    return {"skills": skills, "orgs": orgs, "languages": languages}


def enrolled_course_ids(user: User, course_ids: list[int]) -> set[int]:
    """Which of these courses the user is actively enrolled in."""
    if not course_ids:
        return set()
    return set(
        db.session.scalars(
            select(Enrolment.course_id).where(
                Enrolment.user_id == user.id,
                Enrolment.course_id.in_(course_ids),
                Enrolment.status == EnrolmentStatus.ACTIVE,
            )
        )
    )


def authored_courses(user: User) -> list[Course]:
    """Courses the user authors or administers (site admins: all), with review data loaded."""
    stmt = select(Course)
    if not user.is_site_admin:
        staff_orgs = user.organization_ids(Role.TRAINER, Role.ORG_ADMIN) or {-1}
        stmt = stmt.where(
            exists().where(
                CoursePartner.course_id == Course.id,
                CoursePartner.organization_id.in_(staff_orgs),
            )
        )
    stmt = stmt.options(
        selectinload(Course.partners).selectinload(CoursePartner.organization),
        selectinload(Course.signoffs),
    ).order_by(Course.updated_at.desc(), Course.id.desc())
    return list(db.session.scalars(stmt))


def load_course(slug: str) -> Course | None:
    """A course by slug with its partners and its outline loaded: two queries, whatever its size.

    The course with its partners (for the permission checks), then the modules with their
    activities and access conditions (for the outline and the locks). Skills and sign-offs load
    when a page shows them (one query each).
    """
    return (
        db.session.execute(
            select(Course)
            .where(Course.slug == slug)
            .options(
                joinedload(Course.partners).joinedload(CoursePartner.organization),
                selectinload(Course.modules)
                .joinedload(Module.activities)
                .joinedload(Activity.conditions),
            )
        )
        .unique()
        .scalar_one_or_none()
    )


def course_outcomes(course: Course) -> list[CourseOutcome]:
    """The course's skills and levels with each skill's framework and level scale (two
    queries, whatever the number of skills and frameworks)."""
    return list(
        db.session.scalars(
            select(CourseOutcome)
            .where(CourseOutcome.course_id == course.id)
            .options(
                joinedload(CourseOutcome.skill)
                .joinedload(Skill.framework)
                .selectinload(Framework.levels)
            )
            .order_by(CourseOutcome.skill_id)
        )
    )
