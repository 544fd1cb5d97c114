"""Co-design: each partner organization signs off a course version; it is published only when
every partner has signed the current version (or an override is recorded)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from lms.domain.models import (
    Course,
    CoursePartner,
    CourseSignoff,
    CourseStatus,
)
from lms.errors import Conflict, DomainError, NotAllowed
from lms.extensions import db
from lms.models import Organization, Role, User
from lms.timeutil import utcnow


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


def load_signers(course: Course) -> None:
    """Load the people who signed off ``course`` in one query (the review page names each)."""
    signers = {s.user_id for s in course.signoffs if s.user_id is not None}
    if signers:
        db.session.scalars(select(User).where(User.id.in_(signers))).all()


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
