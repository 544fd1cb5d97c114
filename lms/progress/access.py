"""Who may open an activity: the course team always; a learner once enrolled and once the
activity's restrict-access locks (dates, conditions on their progress in other activities) are met.

It lives in progress because the locks read the learner's completions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select

from lms.domain.access import Condition, lock_reasons
from lms.domain.models import Activity
from lms.domain.services import active_enrolment
from lms.extensions import db
from lms.models import User
from lms.permissions import can
from lms.progress.models import ActivityCompletion
from lms.timeutil import utcnow

ENROL_FIRST = "Enrol in this course to open its activities."


@dataclass(frozen=True)
class ActivityAccess:
    """May this person open an activity, and if not, why (the course team always may)."""

    staff: bool
    enrolled: bool
    reasons: tuple[str, ...]

    @property
    def refusal(self) -> str | None:
        """Why the activity stays closed to this person (None: it is open to them)."""
        if self.staff:
            return None
        if not self.enrolled:
            return ENROL_FIRST
        return " ".join(self.reasons) or None


def activity_access(user: User, activity: Activity, now: datetime | None = None) -> ActivityAccess:
    """The one access rule for an activity, whatever the address it is reached by.

    The course team may always open it; a learner needs an active enrolment, then the activity's
    restrict-access locks (opening date, conditions on other activities) must all be met. The
    course page applies the same :func:`lms.domain.access.lock_reasons` to its whole outline.
    """
    staff = can(user, "course.manage", activity.course)
    enrolled = active_enrolment(user.id, activity.course_id) is not None
    if staff or not enrolled:
        return ActivityAccess(staff=staff, enrolled=enrolled, reasons=())
    conditions = [
        Condition(c.kind, c.required_activity_id, c.min_grade) for c in activity.conditions
    ]
    ids = [c.required_activity_id for c in conditions]
    states, titles = {}, {}
    if ids:
        # The required activities' titles and the learner's rows for them, in one query.
        for activity_id, title, row in db.session.execute(
            select(Activity.id, Activity.title, ActivityCompletion)
            .outerjoin(
                ActivityCompletion,
                and_(
                    ActivityCompletion.activity_id == Activity.id,
                    ActivityCompletion.user_id == user.id,
                ),
            )
            .where(Activity.id.in_(ids))
        ):
            titles[activity_id] = title
            if row is not None:
                states[activity_id] = row
    reasons = lock_reasons(activity.available_from, conditions, states, titles, now or utcnow())
    return ActivityAccess(staff=False, enrolled=True, reasons=tuple(reasons))
