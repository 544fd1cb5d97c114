"""What a learner sees of a course: the outline with completion ticks and locks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lms.domain.access import course_locks
from lms.domain.models import Activity, Course
from lms.models import User
from lms.pagecache import expires_at, no_store
from lms.permissions import can
from lms.plugins import activity_registry
from lms.progress.queries import enrolment_with_states
from lms.timeutil import utcnow


@dataclass
class Outline:
    """A course as one learner sees it (one query for states; the course is preloaded)."""

    course: Course
    activities: list[Activity]
    states: dict[int, Any]
    locks: dict[int, list[str]]
    enrolled: bool
    staff: bool
    completion: Any = None
    icons: dict[str, str] = field(default_factory=dict)

    def neighbours(self, activity: Activity) -> tuple[Activity | None, Activity | None]:
        """Previous and next activity in course order."""
        ids = [a.id for a in self.activities]
        index = ids.index(activity.id)
        prev = self.activities[index - 1] if index > 0 else None
        nxt = self.activities[index + 1] if index + 1 < len(ids) else None
        return prev, nxt

    def completed(self, activity: Activity) -> bool:
        """Whether the learner completed this activity."""
        state = self.states.get(activity.id)
        return bool(state and state.completed)

    def type_label(self, activity: Activity) -> str:
        """Human label of the activity's type."""
        atype = activity_registry().get(activity.type)
        return atype.label if atype else activity.type


def _later(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and moment > now


def outline(course: Course, user: User, now: datetime | None = None) -> Outline:
    """The course as ``user`` sees it: one query (enrolment, course completion and activity
    states together) on a course loaded by ``load_course``, whatever the course's size."""
    activities = [a for m in course.modules for a in m.activities]
    enrolled, completion, states = enrolment_with_states(user.id, course.id)
    now = now or utcnow()
    staff = can(user, "course.manage", course)
    # A kept page (lms.pagecache) lasts no longer than the next activity opening by date; the
    # course team's view (e.g. an LTI instructor's) is never kept.
    expires_at(min((a.available_from for a in activities if _later(a.available_from, now)),
                   default=None))  # fmt: skip
    if staff:
        no_store()
    return Outline(
        course=course,
        activities=activities,
        states=states,
        locks=course_locks(activities, states, now),
        enrolled=enrolled,
        staff=staff,
        completion=completion,
    )
