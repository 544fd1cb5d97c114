"""Courses and their co-design workflow: create, edit, partners, skills, sign-off, publish.

Services flush, never commit; the view or CLI command commits once.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from lms.domain.models import (
    LEVELS,
    Course,
    CoursePartner,
    CourseSignoff,
    CourseStatus,
    Visibility,
)
from lms.domain.services import mark_course_edited
from lms.errors import Conflict, DomainError, NotAllowed
from lms.extensions import db
from lms.models import Organization, Role, User
from lms.skills.services import COURSE_LEVEL_RANKS, cluster_skills_for_labels, set_course_outcomes
from lms.timeutil import utcnow

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


# --- co-design ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PartnerReview:
    """One partner's place in the review: its current sign-off (or None) and its history."""

    partner: CoursePartner
    current: CourseSignoff | None
    history: list[CourseSignoff]

    @property
    def state(self) -> str:
        """Signed, withdrawn or awaiting, for the review page."""
        if self.current is not None:
            return "signed"
        return "withdrawn" if any(s.withdrawn_at for s in self.history) else "awaiting"


def is_current(signoff: CourseSignoff, course: Course) -> bool:
    """Whether a partner's sign-off still covers the current content version."""
    return signoff.withdrawn_at is None and signoff.content_version == course.content_version


def review_state(course: Course) -> list[PartnerReview]:
    """Each partner with its current sign-off and earlier ones (newest first)."""
    rows = []
    for partner in course.partners:
        history = sorted(
            (s for s in course.signoffs if s.organization_id == partner.organization_id),
            key=lambda s: (s.signed_at, s.id or 0),
            reverse=True,
        )
        current = next((s for s in history if is_current(s, course)), None)
        rows.append(PartnerReview(partner, current, history))
    return rows


def missing_signoffs(course: Course) -> list[Organization]:
    """Partner organizations that have not signed off the current content."""
    return [r.partner.organization for r in review_state(course) if r.current is None]


def signable_organizations(user: User, course: Course) -> list[Organization]:
    """Partner organizations ``user`` may sign off for (as a trainer or org admin there)."""
    mine = user.organization_ids(Role.TRAINER, Role.ORG_ADMIN)
    return [p.organization for p in course.partners if p.organization_id in mine]


def override_organizations(user: User, course: Course) -> list[Organization]:
    """Partners a site administrator could sign for only as a recorded override."""
    if not user.is_site_admin:
        return []
    mine = {o.id for o in signable_organizations(user, course)}
    return [p.organization for p in course.partners if p.organization_id not in mine]


def sign_off(
    course: Course, organization: Organization, user: User, comment: str = ""
) -> CourseSignoff:
    """Approve the current content version for ``organization``.

    Only its own trainers and administrators sign for a partner. A site administrator may sign
    for another partner only as an *override*: it needs a reason (the comment), is recorded as
    such, and the course shows it; every partner signing off stays the rule.
    """
    if course.status not in (CourseStatus.DRAFT, CourseStatus.IN_REVIEW):
        raise DomainError("Only courses in draft or in review can be signed off.")
    if organization.id not in course.partner_org_ids:
        raise DomainError(f"{organization.name} is not a partner of this course.")
    override = organization in override_organizations(user, course)
    if organization not in signable_organizations(user, course) and not override:
        raise NotAllowed(f"You cannot sign off for {organization.name}.")
    comment = (comment or "").strip()[:2000]
    if override and not comment:
        raise DomainError(
            f"You are not a member of {organization.name}: signing for it is an override. "
            "Give the reason (for example who at the partner approved, and how); it is recorded "
            "and shown on the course.",
            "comment",
        )
    for existing in course.signoffs:
        if existing.organization_id == organization.id and is_current(existing, course):
            raise Conflict(f"{organization.name} has already signed off this version.")
    signoff = CourseSignoff(
        organization_id=organization.id,
        user_id=user.id,
        content_version=course.content_version,
        signed_at=utcnow(),
        comment=comment,
        is_override=override,
    )
    course.signoffs.append(signoff)
    db.session.flush()
    return signoff


def submit_for_review(course: Course) -> None:
    """Send a draft course with content to its partners for sign-off."""
    if course.status != CourseStatus.DRAFT:
        raise DomainError("Only a draft can be submitted for review.")
    if not course.modules or not any(m.activities for m in course.modules):
        raise DomainError("Add at least one module with an activity before asking for review.")
    course.status = CourseStatus.IN_REVIEW
    db.session.flush()


def return_to_draft(course: Course) -> None:
    """Take a course in review or published back to draft."""
    if course.status not in (CourseStatus.IN_REVIEW, CourseStatus.PUBLISHED):
        raise DomainError("Only a course in review or published can go back to draft.")
    course.status = CourseStatus.DRAFT
    db.session.flush()


def publish_course(course: Course, now: datetime | None = None) -> None:
    """Publish: every partner organization must have signed off the current content."""
    if course.status != CourseStatus.IN_REVIEW:
        raise DomainError("Only a course in review can be published. Submit it for review first.")
    missing = missing_signoffs(course)
    if missing:
        names = ", ".join(o.name for o in missing)
        raise DomainError(
            f"Publishing needs a current sign-off from every partner. Still missing: {names}."
        )
    course.status = CourseStatus.PUBLISHED
    course.published_at = now or utcnow()
    db.session.flush()


def archive_course(course: Course) -> None:
    """Archive a published course: it leaves the catalog, history is kept."""
    if course.status != CourseStatus.PUBLISHED:
        raise DomainError("Only a published course can be archived.")
    course.status = CourseStatus.ARCHIVED
    db.session.flush()


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
