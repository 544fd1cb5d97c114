"""Names and Role Provisioning: sync a platform course's roster, and what its instructor sees.

``sync_roster`` reads the members through the library's NRPS service and records each one's
role in the platform course (learners not yet launched get an account linked by issuer and
subject, so their progress shows as "not started"); members who left are marked inactive.
``context_progress`` is the one query behind the instructor's page: for the platform course's
learners only, their state in each linked EduCluster course.
"""

from __future__ import annotations

from pylti1p3.names_roles import NamesRolesProvisioningService
from sqlalchemy import and_, select, true, update

from lms.domain.models import Course
from lms.extensions import db
from lms.models import User
from lms.progress.models import CourseCompletion
from lms.timeutil import utcnow

from .models import LtiContext, LtiContextRole, LtiResourceLink, LtiRole
from .roles import map_roles
from .services import link_user, set_context_role
from .services_remote import connector


def sync_roster(context: LtiContext) -> int:
    """Fetch the platform course's members and record them; returns how many are active."""
    if not context.memberships_url:
        raise ValueError("This platform course has no roster service (NRPS) in its launches.")
    service = NamesRolesProvisioningService(
        connector(context.platform),
        {
            "context_memberships_url": context.memberships_url,
            "service_versions": context.nrps_versions or ["2.0"],
        },
    )
    seen: set[int] = set()
    for member in service.get_members():
        subject = member.get("user_id")
        if not isinstance(subject, str) or not subject:
            continue
        role = map_roles(member.get("roles") or [])
        if role == LtiRole.NONE or member.get("status", "Active") != "Active":
            continue
        user = link_user(context.platform, subject[:255], member)
        set_context_role(context, user, role, "roster")
        seen.add(user.id)
    db.session.execute(
        update(LtiContextRole)
        .where(
            LtiContextRole.context_pk == context.id,
            LtiContextRole.user_id.not_in(seen) if seen else true(),
        )
        .values(active=False)
        .execution_options(synchronize_session=False)
    )
    context.roster_synced_at = utcnow()
    db.session.flush()
    return len(seen)


def instructor_contexts(user: User) -> list[LtiContext]:
    """The platform courses in which ``user`` is an instructor."""
    return list(
        db.session.scalars(
            select(LtiContext)
            .join(LtiContextRole, LtiContextRole.context_pk == LtiContext.id)
            .where(
                LtiContextRole.user_id == user.id,
                LtiContextRole.role == LtiRole.INSTRUCTOR,
                LtiContextRole.active.is_(True),
            )
            .order_by(LtiContext.title)
        )
    )


def is_instructor(user: User, context: LtiContext) -> bool:
    """Whether ``user`` is an active instructor of the platform course."""
    return context in instructor_contexts(user)


def linked_courses(context: LtiContext) -> list[Course]:
    """The EduCluster courses placed (whole or in part) in the platform course."""
    return list(
        db.session.scalars(
            select(Course)
            .where(
                Course.id.in_(
                    select(LtiResourceLink.course_id).where(
                        LtiResourceLink.context_pk == context.id
                    )
                )
            )
            .order_by(Course.title)
        )
    )


def context_progress(context: LtiContext) -> tuple[list[Course], list[dict]]:
    """(courses, rows): each active learner of the platform course and, per linked course,
    their state, progress and grade. One query, whatever the roster's size."""
    courses = linked_courses(context)
    course_ids = [c.id for c in courses]
    rows = db.session.execute(
        select(User.id, User.name, CourseCompletion)
        .join(LtiContextRole, LtiContextRole.user_id == User.id)
        .outerjoin(
            CourseCompletion,
            and_(
                CourseCompletion.user_id == User.id,
                CourseCompletion.course_id.in_(course_ids or [-1]),
            ),
        )
        .where(
            LtiContextRole.context_pk == context.id,
            LtiContextRole.role == LtiRole.LEARNER,
            LtiContextRole.active.is_(True),
        )
        .order_by(User.name, User.id)
    ).all()
    people: dict[int, dict] = {}
    for user_id, name, completion in rows:
        person = people.setdefault(user_id, {"name": name, "courses": {}})
        if completion is not None:
            person["courses"][completion.course_id] = completion
    return courses, list(people.values())
