"""Capabilities, evaluated in context (site -> organization -> course), in one place.

Every view, service and API asks :func:`can`; templates get it as a global so the UI shows only
what the user may do. A capability is a function of (user, object); objects are an
:class:`Organization`, a :class:`Course` (or anything with ``course``/``course_id``) or ``None``
for site-wide capabilities. An organization capability asked with ``None`` means "in at least one
of the user's organizations": menus and dashboard panels ask that way, so what they show follows
the same rule as what the pages allow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort
from flask_login import current_user
from sqlalchemy import func, select

from lms.domain.models import Course, CourseStatus, Visibility
from lms.extensions import db
from lms.models import Organization, Role, User

Checker = Callable[[User, Any], bool]
_CAPABILITIES: dict[str, Checker] = {}


def capability(name: str) -> Callable[[Checker], Checker]:
    """Decorator registering the check function of a named capability."""

    def register(fn: Checker) -> Checker:
        """Record the check function under the capability name."""
        _CAPABILITIES[name] = fn
        return fn

    return register


def organizations_where(user: User, name: str) -> list[Organization]:
    """The organizations on which ``user`` holds capability ``name``, by name (all for a site admin)."""
    stmt = select(Organization).order_by(func.lower(Organization.name))
    if not (user.is_authenticated and user.is_site_admin):
        ids = [org_id for org_id in user.organization_ids() if can(user, name, org_id)]
        if not ids:
            return []  # no query for the (many) people who hold the capability nowhere
        stmt = stmt.where(Organization.id.in_(ids))
    return list(db.session.scalars(stmt))


def capabilities() -> list[str]:
    """Every capability name, for the permission matrix test and the admin docs."""
    return sorted(_CAPABILITIES)


def can(user: User | None, name: str, obj: Any = None) -> bool:
    """Whether ``user`` holds capability ``name`` on ``obj``. Unknown names are a bug: raise."""
    check = _CAPABILITIES[name]
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return False
    if user.is_site_admin:
        return True
    return bool(check(user, obj))


def require(name: str, obj: Any = None, *, hide: bool = False) -> None:
    """Abort with 403, or 404 when ``hide`` is set (the object's existence must not leak)."""
    if not can(current_user, name, obj):
        abort(404 if hide else 403)


def _org_id(obj: Any) -> int | None:
    if isinstance(obj, Organization):
        return obj.id
    if isinstance(obj, int):
        return obj
    return getattr(obj, "organization_id", None)


def _course(obj: Any) -> Course | None:
    if isinstance(obj, Course):
        return obj
    return getattr(obj, "course", None)


def _roles(user: User, obj: Any) -> set[str]:
    """The user's roles in ``obj``'s organization; with ``None``, in any of their organizations."""
    if obj is None:
        return {m.role for m in user.memberships}
    org_id = _org_id(obj)
    return user.roles_in(org_id) if org_id is not None else set()


# --- site ------------------------------------------------------------------------------------
@capability("site.admin")
def _site_admin(user: User, obj: Any) -> bool:
    return False  # only site admins, handled in can()


# --- organization ----------------------------------------------------------------------------
@capability("org.manage")
def _org_manage(user: User, obj: Any) -> bool:
    """Members, departments and invitations of an organization."""
    return Role.ORG_ADMIN in _roles(user, obj)


@capability("org.view_people")
def _org_view_people(user: User, obj: Any) -> bool:
    return bool(_roles(user, obj) & {Role.ORG_ADMIN, Role.HR})


@capability("org.manage_programs")
def _org_programs(user: User, obj: Any) -> bool:
    """Create programs and assign them to employees (HR and org admins)."""
    return bool(_roles(user, obj) & {Role.ORG_ADMIN, Role.HR})


@capability("org.view_progress")
def _org_progress(user: User, obj: Any) -> bool:
    """The HR dashboard, employee transcripts and exports of an organization."""
    return bool(_roles(user, obj) & {Role.ORG_ADMIN, Role.HR})


@capability("org.validate_skills")
def _org_validate_skills(user: User, obj: Any) -> bool:
    """Validate the skill level of the organization's people (its trainers and mentors)."""
    return bool(_roles(user, obj) & {Role.TRAINER, Role.ORG_ADMIN})


@capability("org.manage_tokens")
def _org_tokens(user: User, obj: Any) -> bool:
    return bool(_roles(user, obj) & {Role.ORG_ADMIN, Role.HR})


@capability("org.view_indicators")
def _org_indicators(user: User, obj: Any) -> bool:
    """The organization's cluster indicators in detail, its targets and its signals."""
    return bool(_roles(user, obj) & {Role.ORG_ADMIN, Role.HR})


@capability("org.manage_placements")
def _org_placements(user: User, obj: Any) -> bool:
    """Publish placements, decide on applications and record their outcomes."""
    return bool(_roles(user, obj) & {Role.ORG_ADMIN, Role.HR})


@capability("org.record_funding")
def _org_funding(user: User, obj: Any) -> bool:
    """Record the organization's contributions to cluster programs and its spending of them."""
    return Role.ORG_ADMIN in _roles(user, obj)


# --- courses ---------------------------------------------------------------------------------
@capability("course.create")
def _course_create(user: User, obj: Any) -> bool:
    """Start a new course (any trainer or org admin; with an org, of that org)."""
    roles = {Role.TRAINER, Role.ORG_ADMIN}
    if obj is None:
        return user.has_role(*roles)
    return bool(_roles(user, obj) & roles)


def is_author(user: User, course: Course | None) -> bool:
    """Trainers of a partner organization author the course."""
    if course is None:
        return False
    return any(
        m.role == Role.TRAINER and m.organization_id in course.partner_org_ids
        for m in user.memberships
    )


def is_partner_admin(user: User, course: Course | None) -> bool:
    """Whether the user administers a partner organization of the course."""
    if course is None:
        return False
    return any(
        m.role == Role.ORG_ADMIN and m.organization_id in course.partner_org_ids
        for m in user.memberships
    )


@capability("course.edit")
def _course_edit(user: User, obj: Any) -> bool:
    course = _course(obj)
    if course is None or course.status == CourseStatus.ARCHIVED:
        return False
    return is_author(user, course) or is_partner_admin(user, course)


@capability("course.manage")
def _course_manage(user: User, obj: Any) -> bool:
    """Authoring-side access that still makes sense for archived courses (reports, export)."""
    course = _course(obj)
    return is_author(user, course) or is_partner_admin(user, course)


@capability("course.signoff")
def _course_signoff(user: User, obj: Any) -> bool:
    """Sign off for one's own partner organization(s)."""
    course = _course(obj)
    if course is None or course.status not in (CourseStatus.DRAFT, CourseStatus.IN_REVIEW):
        return False
    return is_author(user, course) or is_partner_admin(user, course)


@capability("course.view")
def _course_view(user: User, obj: Any) -> bool:
    """See a course: published and open to the user, or authoring-side access."""
    course = _course(obj)
    if course is None:
        return False
    if is_author(user, course) or is_partner_admin(user, course):
        return True
    if course.status != CourseStatus.PUBLISHED:
        return False
    if course.visibility == Visibility.CLUSTER:
        return True
    return bool(user.organization_ids() & course.partner_org_ids)


@capability("course.enrol")
def _course_enrol(user: User, obj: Any) -> bool:
    """Self-enrolment: the course is published and open to the user's organization."""
    course = _course(obj)
    if course is None or course.status != CourseStatus.PUBLISHED:
        return False
    if course.visibility == Visibility.CLUSTER:
        return True
    return bool(user.organization_ids() & course.partner_org_ids)


@capability("course.enrol_others")
def _course_enrol_others(user: User, obj: Any) -> bool:
    course = _course(obj)
    return course is not None and (is_author(user, course) or is_partner_admin(user, course))


@capability("course.view_reports")
def _course_reports(user: User, obj: Any) -> bool:
    course = _course(obj)
    return is_author(user, course) or is_partner_admin(user, course)


@capability("course.override_completion")
def _course_override(user: User, obj: Any) -> bool:
    return is_author(user, _course(obj))


# --- certificates ----------------------------------------------------------------------------
@capability("certificate.view")
def _certificate_view(user: User, obj: Any) -> bool:
    """The learner, and the HR managers and org admins of the learner's organizations."""
    if obj is None:
        return False
    if obj.user_id == user.id:
        return True
    return any(_roles(user, org_id) & {Role.ORG_ADMIN, Role.HR} for org_id in obj.learner_org_ids)


@capability("certificate.revoke")
def _certificate_revoke(user: User, obj: Any) -> bool:
    """Admins of the issuing organization (course partners, or the program's organization)."""
    if obj is None:
        return False
    return any(Role.ORG_ADMIN in _roles(user, org_id) for org_id in obj.issuer_org_ids)


def init_app(app) -> None:
    """Expose can() to templates for the signed-in user."""
    app.jinja_env.globals["can"] = lambda name, obj=None: can(current_user, name, obj)
