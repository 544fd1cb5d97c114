"""Work-based placements: enterprises publish, students apply, the enterprise decides, the mentor
evaluates (validated skill evidence), and the outcome is recorded.

Seats are never over-filled: accepting is one conditional ``UPDATE ... SET seats_filled =
seats_filled + 1 WHERE seats_filled < seats`` (and a CHECK constraint behind it), so two accepts
at once cannot both take the last seat.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError

from lms.cluster.models import (
    ApplicationState,
    Placement,
    PlacementApplication,
    PlacementEvaluation,
    PlacementKind,
    PlacementOutcome,
    PlacementSkill,
    PlacementStatus,
)
from lms.errors import Conflict, DomainError, InvalidFields, NotAllowed
from lms.extensions import db
from lms.models import Membership, Organization, OrgKind, Role, User
from lms.progress.assignments import notify
from lms.skills.models import Skill
from lms.skills.services import check_level
from lms.skills.supply import skill_profile, validate_skill

TITLE_MAX, TEXT_MAX, SEATS_MAX = 200, 4000, 500
MOTIVATION_MIN = 20


@dataclass
class PlacementData:
    """Validated-on-save fields of a placement."""

    title: str
    kind: str
    description: str
    location: str
    remote: bool
    starts_on: date | None
    ends_on: date | None
    seats: int | None
    mentor_id: int | None = None
    skills: list[tuple[int, int]] = field(default_factory=list)


def _check(org: Organization, data: PlacementData, today: date) -> list[tuple[Skill, int]]:
    errors: list[DomainError] = []
    if not data.title.strip() or len(data.title) > TITLE_MAX:
        errors.append(DomainError(f"Give the placement a title (at most {TITLE_MAX}).", "title"))
    if data.kind not in set(PlacementKind):
        errors.append(DomainError("Choose the kind of placement.", "kind"))
    if len(data.description) > TEXT_MAX:
        errors.append(
            DomainError(f"Keep the description under {TEXT_MAX} characters.", "description")
        )
    if not data.remote and not data.location.strip():
        errors.append(DomainError("Say where it takes place, or tick Remote.", "location"))
    if data.seats is None or not 1 <= data.seats <= SEATS_MAX:
        errors.append(DomainError(f"Offer between 1 and {SEATS_MAX} seats.", "seats"))
    if data.starts_on is None:
        errors.append(DomainError("Enter the start date.", "starts_on"))
    elif data.starts_on < today:
        errors.append(
            DomainError("The start date has passed: choose a date from today.", "starts_on")
        )
    if data.ends_on is None:
        errors.append(DomainError("Enter the end date.", "ends_on"))
    elif data.starts_on and data.ends_on < data.starts_on:
        errors.append(DomainError("The end date must be on or after the start date.", "ends_on"))
    if data.mentor_id is not None:
        member = db.session.scalar(
            select(Membership.id).where(
                Membership.user_id == data.mentor_id, Membership.organization_id == org.id
            )
        )
        if member is None:
            errors.append(
                DomainError("The mentor must be a member of your organization.", "mentor_id")
            )
    skills = []
    if not data.skills:
        errors.append(DomainError("Name at least one skill the placement develops.", "skills"))
    for skill_id, level in data.skills:
        skill = db.session.get(Skill, skill_id)
        if skill is None:
            errors.append(DomainError("Choose skills from the list.", "skills"))
            continue
        try:
            skills.append((skill, check_level(skill, level)))
        except DomainError as exc:
            errors.append(DomainError(exc.message, "skills"))
    if errors:
        raise InvalidFields(errors)
    return skills


def publish_placement(org: Organization, data: PlacementData, by: User, now: datetime) -> Placement:
    """Publish a placement of ``org`` (all fields checked at once; nothing written on error)."""
    if org.kind != OrgKind.ENTERPRISE and org.kind != OrgKind.RESEARCH:
        raise DomainError("Placements are offered by enterprises and research centres.", "org")
    skills = _check(org, data, now.date())
    placement = Placement(
        organization_id=org.id, title=data.title.strip(), kind=data.kind,
        description=data.description.strip(), location=data.location.strip(), remote=data.remote,
        starts_on=data.starts_on, ends_on=data.ends_on, seats=data.seats, mentor_id=data.mentor_id,
        status=PlacementStatus.PUBLISHED, created_by_id=by.id, created_at=now, published_at=now,
    )  # fmt: skip
    placement.skills = [PlacementSkill(skill_id=s.id, level=lv) for s, lv in skills]
    db.session.add(placement)
    db.session.flush()
    return placement


@dataclass(frozen=True)
class PlacementFilters:
    """What a student narrows the list by."""

    skill_id: int | None = None
    starts_from: date | None = None
    org_id: int | None = None


def find_placements(filters: PlacementFilters, today: date) -> list[Placement]:
    """Published placements that have not started, soonest first (one query)."""
    stmt = (
        select(Placement)
        .where(Placement.status == PlacementStatus.PUBLISHED, Placement.starts_on >= today)
        .order_by(Placement.starts_on, Placement.id)
    )
    if filters.skill_id is not None:
        stmt = stmt.where(
            Placement.id.in_(
                select(PlacementSkill.placement_id).where(
                    PlacementSkill.skill_id == filters.skill_id
                )
            )
        )
    if filters.starts_from is not None:
        stmt = stmt.where(Placement.starts_on >= filters.starts_from)
    if filters.org_id is not None:
        stmt = stmt.where(Placement.organization_id == filters.org_id)
    return list(db.session.scalars(stmt.limit(200)))


def student_organization(user: User) -> Organization | None:
    """The partner university where ``user`` is a learner (None: not a student)."""
    for m in user.memberships:
        if m.role == Role.LEARNER and m.organization.kind == OrgKind.UNIVERSITY:
            return m.organization
    return None


def apply_to_placement(
    placement: Placement, user: User, motivation: str, now: datetime
) -> PlacementApplication:
    """A student's application with their motivation and a copy of their skill profile."""
    university = student_organization(user)
    if university is None:
        raise NotAllowed("Placements are open to students of the cluster's universities.")
    if placement.status != PlacementStatus.PUBLISHED or placement.starts_on < now.date():
        raise Conflict("This placement no longer takes applications.")
    motivation = (motivation or "").strip()
    if len(motivation) < MOTIVATION_MIN:
        raise DomainError(
            f"Tell the enterprise why you apply (at least {MOTIVATION_MIN} characters).",
            "motivation",
        )
    if len(motivation) > TEXT_MAX:
        raise DomainError(f"Keep the motivation under {TEXT_MAX} characters.", "motivation")
    if _application_of(placement.id, user.id) is not None:
        raise Conflict("You have already applied to this placement.")
    profile = [
        {"label": p.label, "level": p.level, "level_name": p.level_name, "basis": p.basis}
        for p in skill_profile(user.id, now)
        if p.level is not None
    ]
    application = PlacementApplication(
        placement_id=placement.id, user_id=user.id, organization_id=university.id,
        motivation=motivation, profile_json=json.dumps(profile), applied_at=now,
    )  # fmt: skip
    try:
        with db.session.begin_nested():
            db.session.add(application)
    except IntegrityError:
        raise Conflict("You have already applied to this placement.") from None
    return application


def _application_of(placement_id: int, user_id: int) -> PlacementApplication | None:
    return db.session.scalar(
        select(PlacementApplication).where(
            PlacementApplication.placement_id == placement_id,
            PlacementApplication.user_id == user_id,
        )
    )


def _overlapping(application: PlacementApplication) -> Placement | None:
    """Another placement the same student is accepted for whose dates overlap this one."""
    this = application.placement
    return db.session.scalar(
        select(Placement)
        .join(PlacementApplication, PlacementApplication.placement_id == Placement.id)
        .where(
            PlacementApplication.user_id == application.user_id,
            PlacementApplication.state == ApplicationState.ACCEPTED,
            PlacementApplication.id != application.id,
            and_(Placement.starts_on <= this.ends_on, Placement.ends_on >= this.starts_on),
        )
        .limit(1)
    )


DECISIONS = {
    "shortlist": ApplicationState.SHORTLISTED,
    "accept": ApplicationState.ACCEPTED,
    "decline": ApplicationState.DECLINED,
}


def _checked_decision(
    application: PlacementApplication, action: str, message: str
) -> tuple[ApplicationState, str]:
    """The decision's new state and trimmed message, or the reason it cannot be made."""
    state = DECISIONS.get(action)
    if state is None:
        raise DomainError("Choose shortlist, accept or decline.", "action")
    message = (message or "").strip()
    if len(message) > TEXT_MAX:
        raise DomainError(f"Keep the message under {TEXT_MAX} characters.", "message")
    if state == ApplicationState.DECLINED and not message:
        raise DomainError("Tell the student why: a message is required to decline.", "message")
    if application.state in (ApplicationState.ACCEPTED, ApplicationState.DECLINED):
        raise Conflict(f"This application was already {application.state}.")
    return state, message


def _take_seat(application: PlacementApplication) -> None:
    """Take one seat for an accepted student, in one guarded UPDATE (never over-filled, even
    with two accepts at once); refused when the student's other placement overlaps."""
    other = _overlapping(application)
    if other is not None:
        raise Conflict(
            f"The student is already placed at {other.title} from {other.starts_on} to "
            f"{other.ends_on}; the dates overlap."
        )
    taken = db.session.execute(
        update(Placement)
        .where(Placement.id == application.placement_id, Placement.seats_filled < Placement.seats)
        .values(seats_filled=Placement.seats_filled + 1)
    ).rowcount
    if taken != 1:
        raise Conflict("Every seat of this placement is taken; decline or shortlist instead.")
    db.session.expire(application.placement, ["seats_filled"])


def decide_application(
    application: PlacementApplication, action: str, message: str, by: User, now: datetime
) -> None:
    """Shortlist, accept or decline with a message to the student; accepting takes a seat."""
    state, message = _checked_decision(application, action, message)
    if state == ApplicationState.ACCEPTED:
        _take_seat(application)
    # The state changes only from an undecided one: a concurrent decision loses cleanly.
    changed = db.session.execute(
        update(PlacementApplication)
        .where(
            PlacementApplication.id == application.id,
            PlacementApplication.state.in_(
                [ApplicationState.APPLIED, ApplicationState.SHORTLISTED]
            ),
        )
        .values(state=state, message=message, decided_at=now)
    ).rowcount
    if changed != 1:
        raise Conflict("Someone else decided on this application at the same time.")
    db.session.expire(application)
    words = {"shortlisted": "shortlisted you for", "accepted": "accepted you for",
             "declined": "declined your application to"}[state]  # fmt: skip
    placement = db.session.get(Placement, application.placement_id)
    notify(
        application.user,
        "placement",
        f"{placement.organization.name} {words} {placement.title}."
        + (f" {message}" if message else ""),
        f"/cluster/placements/{placement.id}",
    )


def evaluate_placement_skill(
    application: PlacementApplication, skill_id: int, level: int, comment: str, mentor: User,
    now: datetime,
) -> PlacementEvaluation:  # fmt: skip
    """The mentor's evaluation of one of the placement's skills: validated evidence too."""
    if application.state != ApplicationState.ACCEPTED:
        raise Conflict("Only accepted students are evaluated.")
    wanted = {ps.skill_id for ps in application.placement.skills}
    if skill_id not in wanted:
        raise DomainError("Evaluate one of the skills this placement develops.", "skill_id")
    skill = db.session.get(Skill, skill_id)
    evidence = validate_skill(application.user, skill, level, mentor, comment, now=now)
    row = PlacementEvaluation(
        application_id=application.id, skill_id=skill_id, level=level,
        comment=evidence.comment, evidence_id=evidence.id, mentor_id=mentor.id, created_at=now,
    )  # fmt: skip
    db.session.add(row)
    db.session.flush()
    return row


def record_outcome(
    application: PlacementApplication, outcome: str, hired: bool, now: datetime
) -> None:
    """At the end: completed or not, and hired or not (recorded once)."""
    if application.state != ApplicationState.ACCEPTED:
        raise Conflict("Only an accepted student's placement has an outcome.")
    if application.outcome is not None:
        raise Conflict("The outcome of this placement is already recorded.")
    if outcome not in set(PlacementOutcome):
        raise DomainError("Say whether the placement was completed.", "outcome")
    if now.date() < application.placement.starts_on:
        raise DomainError("The placement has not started yet.", "outcome")
    application.outcome, application.hired, application.outcome_at = outcome, hired, now
    db.session.flush()


def student_applications(org_ids: set[int]) -> list[PlacementApplication]:
    """Applications of the students of ``org_ids`` (their university trainers follow them)."""
    if not org_ids:
        return []
    return list(
        db.session.scalars(
            select(PlacementApplication)
            .where(PlacementApplication.organization_id.in_(org_ids))
            .order_by(PlacementApplication.applied_at.desc())
            .limit(200)
        )
    )
