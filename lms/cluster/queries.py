"""The cluster pages' look-ups (the views stay thin: they call these and render)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from lms.cluster.models import (
    LedgerCheckpoint,
    PlacementApplication,
    PlacementEvaluation,
)
from lms.extensions import db
from lms.models import Membership, Organization, OrgKind, Role, User
from lms.skills.models import Skill, SkillKind
from lms.skills.services import cluster_framework


def organization_by_slug(slug: str) -> Organization | None:
    """The partner organization with ``slug``."""
    return db.session.scalar(select(Organization).where(Organization.slug == slug))


def skill_choices() -> list[Skill]:
    """The skills of the cluster's own framework, by name (placement skills and filters)."""
    framework = cluster_framework()
    return list(
        db.session.scalars(
            select(Skill)
            .where(Skill.framework_id == framework.id, Skill.kind == SkillKind.SKILL)
            .order_by(func.lower(Skill.preferred_label))
        )
    )


def host_partners() -> list[Organization]:
    """Partners that offer placements (enterprises and research centres), by name."""
    return list(
        db.session.scalars(
            select(Organization)
            .where(Organization.kind.in_([OrgKind.ENTERPRISE, OrgKind.RESEARCH]))
            .order_by(Organization.name)
        )
    )


def mentor_choices(org_id: int) -> list[User]:
    """Staff of ``org_id`` who may mentor (anyone but its learners), by name."""
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organization_id == org_id, Membership.role != Role.LEARNER)
            .distinct()
            .order_by(User.name)
        )
    )


def applications_of_user(user_id: int) -> list[PlacementApplication]:
    """A student's own applications, newest first."""
    return list(
        db.session.scalars(
            select(PlacementApplication)
            .where(PlacementApplication.user_id == user_id)
            .order_by(PlacementApplication.applied_at.desc())
        )
    )


def visible_applications(
    placement_id: int, manage: bool, viewer_id: int, trainer_orgs: set[int]
) -> list[PlacementApplication]:
    """A placement's applications as the viewer may see them: all for the enterprise, one's
    own for a student, their students' for university trainers."""
    stmt = select(PlacementApplication).where(PlacementApplication.placement_id == placement_id)
    if not manage:
        stmt = stmt.where(
            (PlacementApplication.user_id == viewer_id)
            | PlacementApplication.organization_id.in_(trainer_orgs or [-1])
        )
    return list(db.session.scalars(stmt.order_by(PlacementApplication.applied_at)))


def evaluations_by_application(application_ids: list[int]) -> dict[int, list[PlacementEvaluation]]:
    """Mentor evaluations of ``application_ids``, oldest first, grouped (one query)."""
    out: dict[int, list[PlacementEvaluation]] = {}
    if not application_ids:
        return out
    for ev in db.session.scalars(
        select(PlacementEvaluation)
        .where(PlacementEvaluation.application_id.in_(application_ids))
        .order_by(PlacementEvaluation.created_at)
    ):
        out.setdefault(ev.application_id, []).append(ev)
    return out


def checkpoint_of_day(day: date) -> LedgerCheckpoint | None:
    """The checkpoint published on ``day``."""
    return db.session.scalar(select(LedgerCheckpoint).where(LedgerCheckpoint.day == day))
