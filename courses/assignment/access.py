"""Who may do what with an assignment: learners of the course, its authors, assigned graders."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from courses.assignment.models import Assignment, AssignmentSubmission
from courses.assignment.services import is_grader
from lms.domain.access import course_locks
from lms.domain.services import active_enrolment
from lms.extensions import db
from lms.lookup import owned_or_404
from lms.permissions import can
from lms.progress.queries import activity_states
from lms.timeutil import utcnow


def load_assignment(activity_id: int) -> Assignment:
    """The assignment, or 404."""
    return db.get_or_404(Assignment, activity_id)


def may_grade(user, assignment: Assignment) -> bool:
    """The course's authors and the people assigned as graders of this assignment."""
    return can(user, "course.manage", assignment.course) or (
        user.is_authenticated and is_grader(assignment, user)
    )


def require_grader(assignment: Assignment) -> None:
    """404 unless the current user may grade the assignment."""
    if not may_grade(current_user, assignment):
        abort(404)


def require_learner(assignment: Assignment) -> None:
    """An enrolled learner for whom the activity is open (else 404: nothing leaks)."""
    if active_enrolment(current_user.id, assignment.course_id) is None:
        abort(404)
    course = assignment.course
    activities = [a for m in course.modules for a in m.activities]
    locks = course_locks(activities, activity_states(current_user.id, course.id), utcnow())
    if assignment.id in locks:
        abort(404)


def submission_or_404(assignment: Assignment, submission_id: int) -> AssignmentSubmission:
    """A submission of this assignment, or 404."""
    return owned_or_404(AssignmentSubmission, submission_id, assignment_id=assignment.id)
