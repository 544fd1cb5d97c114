"""Courses and their co-design workflow: create, edit, partners, skills, sign-off, publish.

Services flush, never commit; the view or CLI command commits once.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from lms.domain.models import (
    LEVELS,
    Course,
    CoursePartner,
    CourseStatus,
    Visibility,
)
from lms.domain.services import mark_course_edited
from lms.errors import Conflict, DomainError
from lms.extensions import db
from lms.models import Organization, Role, User
from lms.skills.services import COURSE_LEVEL_RANKS, cluster_skills_for_labels, set_course_outcomes

PARTNER_ROLES = {
    "academic_lead": "Academic lead",
    "industry_partner": "Industry partner",
    "research_partner": "Research partner",
    "partner": "Partner",
}
LANGUAGES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian"}
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Paths of the blueprint that a course slug must not shadow.
RESERVED_SLUGS = {"new", "import", "authoring", "files", "api"}
# Course fields whose change alters what partners signed off on.
CONTENT_FIELDS = (
    "title", "summary", "level", "estimated_hours", "language", "visibility",
    "cover_attachment_id", "completion_mode", "completion_count", "completion_min_grade",
)  # fmt: skip


def all_organizations() -> list[Organization]:
    """Every organization of the cluster, by name (the partner choices of the course form)."""
    return list(db.session.scalars(select(Organization).order_by(Organization.name)))


def import_organizations(user: User) -> list[Organization]:
    """The organizations ``user`` may import a course for: where they train or administer
    (every one for a site administrator), by name."""
    stmt = select(Organization).order_by(Organization.name)
    if not user.is_site_admin:
        ids = user.organization_ids(Role.TRAINER, Role.ORG_ADMIN) or {-1}
        stmt = stmt.where(Organization.id.in_(ids))
    return list(db.session.scalars(stmt))


def slugify(text: str, max_length: int = 100) -> str:
    """A URL slug from free text: ASCII, lower case, words joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].strip("-") or "course"


def slug_taken(slug: str, exclude_id: int | None = None) -> bool:
    """Whether a course web address is reserved or used by another course."""
    if slug in RESERVED_SLUGS:
        return True
    stmt = select(Course.id).where(Course.slug == slug)
    if exclude_id is not None:
        stmt = stmt.where(Course.id != exclude_id)
    return db.session.scalar(stmt) is not None


def unique_slug(base: str) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is free (used by import)."""
    base = slugify(base)
    if not slug_taken(base):
        return base
    n = 2
    while slug_taken(f"{base[:110]}-{n}"):
        n += 1
    return f"{base[:110]}-{n}"


def parse_skills(text: str) -> list[str]:
    """Comma-separated skill tags, trimmed, de-duplicated case-insensitively, in input order."""
    seen: dict[str, str] = {}
    for raw in (text or "").split(","):
        name = " ".join(raw.split())[:80]
        if name and name.lower() not in seen:
            seen[name.lower()] = name
    return list(seen.values())


def tag_outcomes(course: Course, names: list[str]) -> bool:
    """Make the skills named ``names`` (skills of the cluster framework, created when new) the
    course's outcomes, at the level its declared level implies; whether anything changed."""
    level = COURSE_LEVEL_RANKS.get(course.level, 1)
    keep = {o.skill_id: o.level for o in course.outcomes}
    outcomes = [(s, keep.get(s.id, level)) for s in cluster_skills_for_labels(names)]
    return set_course_outcomes(course, outcomes)


@dataclass
class CourseData:
    """Validated course fields from a form, the CLI or an archive."""

    title: str
    summary: str = ""
    slug: str = ""
    level: str = "beginner"
    estimated_hours: float = 1.0
    language: str = "en"
    visibility: str = Visibility.PARTNERS
    # Skill tags (labels of cluster skills) as outcomes at the course's level, for scripts and
    # old archives; None leaves the outcomes alone (authors set them on the Outcomes page).
    skills: list[str] | None = None
    partners: list[tuple[int, str]] = field(default_factory=list)  # (organization id, role)
    enrolment_key: str | None = None  # None: keep; "": remove; text: set
    completion_mode: str = "all"
    completion_count: int | None = None
    completion_min_grade: float | None = None


def _check(data: CourseData, course: Course | None) -> None:
    if not data.title.strip():
        raise DomainError("Enter a title.", "title")
    if data.slug and not SLUG_RE.match(data.slug):
        raise DomainError(
            "Use lower-case letters, digits and single hyphens in the slug, e.g. lean-basics.",
            "slug",
        )
    if data.level not in LEVELS:
        raise DomainError("Choose a level.", "level")
    if data.visibility not in (Visibility.PARTNERS, Visibility.CLUSTER):
        raise DomainError("Choose who may take the course.", "visibility")
    if data.completion_mode not in ("all", "n_of"):
        raise DomainError("Choose how the course is completed.", "completion_mode")
    if data.completion_mode == "n_of" and not data.completion_count:
        raise DomainError(
            "Enter how many required activities complete the course.", "completion_count"
        )
    if not data.partners:
        raise DomainError("Choose at least one partner organization.", "partners")
    for _org_id, role in data.partners:
        if role not in PARTNER_ROLES:
            raise DomainError(f"Unknown partner role {role!r}.", "partners")


def _apply_partners(course: Course, partners: list[tuple[int, str]]) -> bool:
    """Set the partner list; returns whether anything changed."""
    wanted = dict(partners)
    changed = False
    for partner in list(course.partners):
        if partner.organization_id not in wanted:
            course.partners.remove(partner)
            changed = True
        elif partner.role != wanted[partner.organization_id]:
            partner.role = wanted[partner.organization_id]
            changed = True
    present = {p.organization_id for p in course.partners}
    for org_id, role in partners:
        if org_id not in present:
            course.partners.append(CoursePartner(organization_id=org_id, role=role))
            changed = True
    return changed


def _author_keeps_access(user: User, partners: list[tuple[int, str]]) -> bool:
    if user.is_site_admin:
        return True
    mine = user.organization_ids(Role.TRAINER, Role.ORG_ADMIN)
    return any(org_id in mine for org_id, _ in partners)


def create_course(data: CourseData, author: User) -> Course:
    """A new draft course authored by ``author`` (whose organization must be a partner)."""
    _check(data, None)
    slug = data.slug or unique_slug(data.title)
    if slug_taken(slug):
        raise Conflict(f"The slug “{slug}” is already used by another course.", "slug")
    if not _author_keeps_access(author, data.partners):
        raise DomainError(
            "Include your own organization as a partner, or you could not edit the course.",
            "partners",
        )
    course = Course(
        slug=slug,
        title=data.title.strip(),
        summary=data.summary,
        level=data.level,
        estimated_hours=data.estimated_hours,
        language=data.language,
        visibility=data.visibility,
        status=CourseStatus.DRAFT,
        content_version=1,
        created_by_id=author.id,
        completion_mode=data.completion_mode,
        completion_count=data.completion_count,
        completion_min_grade=data.completion_min_grade,
    )
    if data.enrolment_key:
        course.enrolment_key_hash = generate_password_hash(data.enrolment_key)
    db.session.add(course)
    _apply_partners(course, data.partners)
    db.session.flush()
    if data.skills is not None:
        tag_outcomes(course, data.skills)
    return course


def update_course(course: Course, data: CourseData, editor: User) -> bool:
    """Store edited fields; a change to the content withdraws earlier sign-offs.

    Returns whether the content changed (and sign-offs were withdrawn).
    """
    _check(data, course)
    slug = data.slug or course.slug
    if slug != course.slug and slug_taken(slug, exclude_id=course.id):
        raise Conflict(f"The slug “{slug}” is already used by another course.", "slug")
    if not _author_keeps_access(editor, data.partners):
        raise DomainError(
            "Keep your own organization as a partner, or you could no longer edit the course.",
            "partners",
        )
    before = {name: getattr(course, name) for name in CONTENT_FIELDS}
    course.slug = slug
    course.title = data.title.strip()
    for name in ("summary", "level", "estimated_hours", "language", "visibility"):
        setattr(course, name, getattr(data, name))
    course.completion_mode = data.completion_mode
    course.completion_count = data.completion_count
    course.completion_min_grade = data.completion_min_grade
    if data.enrolment_key == "":
        course.enrolment_key_hash = None
    elif data.enrolment_key:
        course.enrolment_key_hash = generate_password_hash(data.enrolment_key)
    outcomes_changed = data.skills is not None and tag_outcomes(course, data.skills)
    partners_changed = _apply_partners(course, data.partners)
    changed = (
        partners_changed
        or any(getattr(course, name) != value for name, value in before.items())
        or outcomes_changed
    )
    if changed:
        mark_course_edited(course)
    db.session.flush()
    return changed


def set_cover(course: Course, attachment_id: int | None) -> None:
    """Set or clear the course's cover image."""
    if course.cover_attachment_id != attachment_id:
        course.cover_attachment_id = attachment_id
        mark_course_edited(course)


def check_enrolment_key(course: Course, key: str) -> bool:
    """Whether the key opens the course (always true without a key)."""
    return course.enrolment_key_hash is None or check_password_hash(
        course.enrolment_key_hash, key or ""
    )


def course_data_from(course: Course) -> dict[str, Any]:
    """The editable fields of ``course``, to pre-fill its form."""
    return {
        "title": course.title,
        "slug": course.slug,
        "summary": course.summary,
        "level": course.level,
        "estimated_hours": course.estimated_hours,
        "language": course.language,
        "visibility": course.visibility,
        "completion_mode": course.completion_mode,
        "completion_count": course.completion_count,
        "completion_min_grade": course.completion_min_grade,
    }
