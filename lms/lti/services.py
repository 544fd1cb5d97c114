"""What an accepted LTI launch does: link the person, record the platform course, map the
role, find the item, enrol. Services flush, never commit; any refusal raises before anything
is written (the view rolls back), so a refused launch creates nothing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from lms.domain.models import Activity, Course, CourseStatus, Visibility
from lms.domain.services import enrol_user
from lms.errors import DomainError
from lms.extensions import db
from lms.models import Membership, Role, User
from lms.plugins import activity_registry
from lms.timeutil import utcnow

from .models import (
    LtiContext,
    LtiContextRole,
    LtiPlatform,
    LtiResourceLink,
    LtiRole,
    LtiUsedNonce,
    LtiUserLink,
)
from .roles import map_roles

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
ROLES = CLAIM + "roles"
CONTEXT = CLAIM + "context"
RESOURCE_LINK = CLAIM + "resource_link"
MESSAGE_TYPE = CLAIM + "message_type"
CUSTOM = CLAIM + "custom"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CUSTOM_COURSE = "educluster_course"
CUSTOM_ACTIVITY = "educluster_activity"


class LaunchRefused(DomainError):
    """A launch that passed the JWT checks but that EduCluster will not honour."""

    status = 403


@dataclass(frozen=True)
class LaunchResult:
    """Who launched, in which role, from which context and link, into which course."""

    user: User
    role: LtiRole
    context: LtiContext | None
    link: LtiResourceLink | None
    course: Course | None
    activity: Activity | None


def _text(value: Any, limit: int = 255) -> str:
    return value[:limit] if isinstance(value, str) else ""


def consume_nonce(issuer: str, nonce: str, expires: datetime) -> None:
    """Record a launch's nonce; a second launch with it (a replay) is refused."""
    db.session.execute(delete(LtiUsedNonce).where(LtiUsedNonce.expires_at < utcnow()))
    try:
        with db.session.begin_nested():
            db.session.add(LtiUsedNonce(issuer=issuer, nonce=nonce[:255], expires_at=expires))
    except IntegrityError:
        raise LaunchRefused(
            "This launch link was already used. Go back to your course and open the item again."
        ) from None


def open_to_organization(course: Course, organization_id: int) -> bool:
    """A course a platform of ``organization_id`` may place: published and open to it."""
    return course.status == CourseStatus.PUBLISHED and (
        course.visibility == Visibility.CLUSTER or organization_id in course.partner_org_ids
    )


def linkable_activity(activity: Activity) -> bool:
    """Graded activity types (the registry says which) can be placed in a gradebook."""
    plugin = activity_registry().get(activity.type)
    return plugin is not None and plugin.graded


def resolve_target(custom: dict, platform: LtiPlatform) -> tuple[Course, Activity | None]:
    """The course (and activity) a link names, only if open to the platform's organization."""
    try:
        course_id = int(custom.get(CUSTOM_COURSE))
        activity_id = custom.get(CUSTOM_ACTIVITY)
        activity_id = int(activity_id) if activity_id not in (None, "") else None
    except (TypeError, ValueError):
        raise LaunchRefused(
            "This link does not name an EduCluster course or activity. "
            "Ask your instructor to add it again with “Select content”."
        ) from None
    course = db.session.get(Course, course_id) if 0 < course_id < 2**31 else None
    if course is None or not open_to_organization(course, platform.organization_id):
        raise LaunchRefused("The course of this link is not available to your organization.")
    activity = None
    if activity_id is not None:
        activity = db.session.get(Activity, activity_id) if 0 < activity_id < 2**31 else None
        if activity is None or activity.course_id != course.id or not linkable_activity(activity):
            raise LaunchRefused("The activity of this link no longer exists.")
    return course, activity


def _display_name(claims: dict) -> str:
    name = _text(claims.get("name"), 200).strip()
    if not name:
        parts = [_text(claims.get(k), 100).strip() for k in ("given_name", "family_name")]
        name = " ".join(p for p in parts if p)
    return name or "Learner"


def link_user(platform: LtiPlatform, subject: str, claims: dict) -> User:
    """The account of (issuer, subject), created on first launch as a learner of the
    platform's organization. Never matched by e-mail: a platform cannot claim someone else's
    account by sending their address."""
    link = db.session.scalar(
        select(LtiUserLink).where(
            LtiUserLink.issuer == platform.issuer, LtiUserLink.subject == subject
        )
    )
    now = utcnow()
    if link is not None:
        link.last_launch_at = now
        user = link.user
        if not user.active:
            raise LaunchRefused("Your EduCluster account is deactivated.")
        name = _display_name(claims)
        if name != "Learner":
            user.name = name
        return user
    digest = hashlib.sha256(f"{platform.issuer}\n{subject}".encode()).hexdigest()[:24]
    user = User(email=f"lti-{digest}@lti.invalid", name=_display_name(claims))
    db.session.add(user)
    db.session.flush()
    db.session.add(
        Membership(user_id=user.id, organization_id=platform.organization_id, role=Role.LEARNER)
    )
    db.session.add(
        LtiUserLink(
            issuer=platform.issuer,
            subject=subject,
            platform_id=platform.id,
            user_id=user.id,
            last_launch_at=now,
        )
    )
    db.session.flush()
    return user


def record_context(platform: LtiPlatform, claims: dict) -> LtiContext | None:
    """The platform course of the launch, with its roster and gradebook endpoints."""
    context = claims.get(CONTEXT)
    if not isinstance(context, dict) or not _text(context.get("id")):
        return None
    row = db.session.scalar(
        select(LtiContext).where(
            LtiContext.platform_id == platform.id, LtiContext.context_id == context["id"][:255]
        )
    )
    if row is None:
        row = LtiContext(platform_id=platform.id, context_id=context["id"][:255])
        db.session.add(row)
    row.title = _text(context.get("title")) or _text(context.get("label")) or row.title or ""
    nrps = claims.get(NRPS)
    if isinstance(nrps, dict) and _text(nrps.get("context_memberships_url"), 500):
        row.memberships_url = nrps["context_memberships_url"][:500]
        versions = nrps.get("service_versions")
        row.nrps_versions = (
            [v for v in versions if isinstance(v, str)] if isinstance(versions, list) else []
        )
    ags = claims.get(AGS)
    if isinstance(ags, dict):
        row.ags = ags
    db.session.flush()
    return row


def set_context_role(context: LtiContext, user: User, role: LtiRole, source: str) -> None:
    """Record what the platform says ``user`` is in its course (the latest word counts)."""
    row = db.session.scalar(
        select(LtiContextRole).where(
            LtiContextRole.context_pk == context.id, LtiContextRole.user_id == user.id
        )
    )
    if row is None:
        row = LtiContextRole(context_pk=context.id, user_id=user.id)
        db.session.add(row)
    row.role, row.active, row.source = role, True, source
    db.session.flush()


def record_link(
    platform: LtiPlatform,
    context: LtiContext | None,
    claims: dict,
    course: Course,
    activity: Activity | None,
) -> LtiResourceLink:
    """The placement the launch came through, pointing at the item it names."""
    resource = claims.get(RESOURCE_LINK) or {}
    link_id = _text(resource.get("id"))
    if not link_id:
        raise LaunchRefused("The launch names no resource link.")
    link = db.session.scalar(
        select(LtiResourceLink).where(
            LtiResourceLink.platform_id == platform.id,
            LtiResourceLink.resource_link_id == link_id,
        )
    )
    if link is None:
        link = LtiResourceLink(platform_id=platform.id, resource_link_id=link_id)
        db.session.add(link)
    link.context_pk = context.id if context else None
    link.title = _text(resource.get("title")) or link.title or ""
    link.course_id, link.activity_id = course.id, activity.id if activity else None
    ags = claims.get(AGS)
    if isinstance(ags, dict):
        link.ags = ags
        link.lineitem_url = _text(ags.get("lineitem"), 500)
    db.session.flush()
    return link


def accept_launch(platform: LtiPlatform, claims: dict) -> LaunchResult:
    """Everything a validated launch (resource link or deep linking) does."""
    subject = _text(claims.get("sub"))
    if not subject:
        raise LaunchRefused("The platform sent an anonymous launch; EduCluster needs a user.")
    exp = claims.get("exp")
    # Kept past the token's own expiry: until then a replay would otherwise pass the JWT checks.
    expires = (
        datetime.fromtimestamp(exp, UTC).replace(tzinfo=None)
        if isinstance(exp, int | float) and 0 < exp < 2**33
        else utcnow()
    ) + timedelta(hours=1)
    consume_nonce(platform.issuer, _text(claims.get("nonce")), expires)
    roles = claims.get(ROLES)
    role = map_roles(roles if isinstance(roles, list) else [])
    message_type = claims.get(MESSAGE_TYPE)
    if message_type not in ("LtiResourceLinkRequest", "LtiDeepLinkingRequest"):
        raise LaunchRefused("EduCluster does not support this kind of launch.")
    if role == LtiRole.NONE:
        raise LaunchRefused(
            "Your role in this course does not give access to EduCluster content. "
            "Only instructors and learners of the course can open it."
        )
    if message_type == "LtiDeepLinkingRequest" and role != LtiRole.INSTRUCTOR:
        raise LaunchRefused("Only instructors can choose EduCluster content for a course.")
    course = activity = None
    if message_type == "LtiResourceLinkRequest":
        custom = claims.get(CUSTOM)
        course, activity = resolve_target(custom if isinstance(custom, dict) else {}, platform)
    user = link_user(platform, subject, claims)
    context = record_context(platform, claims)
    if context is not None:
        set_context_role(context, user, role, "launch")
    link = None
    if course is not None:
        link = record_link(platform, context, claims, course, activity)
        if role == LtiRole.LEARNER:
            enrol_user(user, course, method="lti")
    return LaunchResult(user, role, context, link, course, activity)
