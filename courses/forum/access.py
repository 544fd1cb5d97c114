"""Who may read and moderate a forum: the course's enrolled learners and its staff."""

from __future__ import annotations

from courses.forum.models import Forum
from lms.domain.services import active_enrolment
from lms.models import User
from lms.permissions import can


def is_moderator(user: User, forum: Forum) -> bool:
    """The course's authors moderate its forums."""
    return can(user, "course.manage", forum.course)


def may_view(user: User, forum: Forum) -> bool:
    """Only the course's enrolled learners and its staff see a forum's posts."""
    if not getattr(user, "is_authenticated", False):
        return False
    return is_moderator(user, forum) or active_enrolment(user.id, forum.course_id) is not None
