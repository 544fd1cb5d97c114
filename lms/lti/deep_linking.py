"""Deep linking: what an instructor may place (courses, and graded activities in them, open to
the platform's organization) and the signed response the platform receives."""

from __future__ import annotations

from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem
from sqlalchemy import or_, select

from lms.domain.models import Activity, Course, CoursePartner, CourseStatus, Visibility
from lms.extensions import db
from lms.plugins import activity_registry

from .models import LtiPlatform
from .services import CUSTOM_ACTIVITY, CUSTOM_COURSE, LaunchRefused, resolve_target
from .tool import registration_for


def placeable_items(platform: LtiPlatform) -> list[tuple[Course, list[Activity]]]:
    """Courses open to the platform's organization, each with its graded activities."""
    partnered = select(CoursePartner.course_id).where(
        CoursePartner.organization_id == platform.organization_id
    )
    courses = db.session.scalars(
        select(Course)
        .where(
            Course.status == CourseStatus.PUBLISHED,
            or_(Course.visibility == Visibility.CLUSTER, Course.id.in_(partnered)),
        )
        .order_by(Course.title)
    ).all()
    graded = [t.key for t in activity_registry() if t.graded]
    activities = db.session.scalars(
        select(Activity)
        .where(Activity.course_id.in_([c.id for c in courses]), Activity.type.in_(graded))
        .order_by(Activity.course_id, Activity.position, Activity.id)
    ).all()
    by_course: dict[int, list[Activity]] = {}
    for activity in activities:
        by_course.setdefault(activity.course_id, []).append(activity)
    return [(course, by_course.get(course.id, [])) for course in courses]


def parse_choice(value: str) -> dict[str, str]:
    """``course:<id>`` or ``activity:<course id>:<id>`` from the picker, as custom parameters."""
    parts = (value or "").split(":")
    if len(parts) == 2 and parts[0] == "course" and parts[1].isdigit():
        return {CUSTOM_COURSE: parts[1]}
    if len(parts) == 3 and parts[0] == "activity" and parts[1].isdigit() and parts[2].isdigit():
        return {CUSTOM_COURSE: parts[1], CUSTOM_ACTIVITY: parts[2]}
    raise LaunchRefused("Choose a course or an activity from the list.")


def response_jwt(platform: LtiPlatform, settings: dict, choice: str, launch_url: str) -> str:
    """The signed LtiDeepLinkingResponse placing the chosen item (with a gradebook column)."""
    custom = parse_choice(choice)
    course, activity = resolve_target(custom, platform)  # open to the organization, or refused
    title = activity.title if activity else course.title
    resource = (
        DeepLinkResource()
        .set_url(launch_url)
        .set_title(title)
        .set_custom_params(custom)
        .set_lineitem(
            LineItem()
            .set_label(title)
            .set_score_maximum(100)
            .set_tag("educluster")
            .set_resource_id(f"{CUSTOM_COURSE}:{course.id}:{activity.id if activity else ''}")
        )
    )
    deep_link = DeepLink(registration_for(platform), settings["deployment_id"], settings)
    return deep_link.get_response_jwt([resource])
