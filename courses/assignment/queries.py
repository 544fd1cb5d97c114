"""The grading queue: submissions of an assignment with filters, in one paginated query."""

from __future__ import annotations

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import contains_eager

from courses.assignment.models import (
    Assignment,
    AssignmentExtension,
    AssignmentGrade,
    AssignmentGrader,
    AssignmentSubmission,
    SubmissionStatus,
)
from lms.domain.models import Course, CoursePartner
from lms.extensions import db
from lms.models import Membership, Role, User

QUEUE_FILTERS = {
    "": "All submissions",
    "ungraded": "Submitted, not graded",
    "regrade": "Resubmitted after grading",
    "graded": "Graded",
    "late": "Late",
    "draft": "Drafts (not submitted)",
}


def queue_statement(assignment_id: int, status: str = "", organization_id: int | None = None,
                    search: str = "") -> Select:  # fmt: skip
    """Submissions with their learner and grade, filtered; newest submission first."""
    stmt = (
        select(AssignmentSubmission)
        .join(User, User.id == AssignmentSubmission.user_id)
        .outerjoin(AssignmentGrade, AssignmentGrade.submission_id == AssignmentSubmission.id)
        .options(
            contains_eager(AssignmentSubmission.user), contains_eager(AssignmentSubmission.grade)
        )
        .where(AssignmentSubmission.assignment_id == assignment_id)
    )
    submitted = AssignmentSubmission.status == SubmissionStatus.SUBMITTED
    if status == "ungraded":
        stmt = stmt.where(submitted, AssignmentGrade.id.is_(None))
    elif status == "regrade":
        stmt = stmt.where(submitted, AssignmentGrade.graded_at < AssignmentSubmission.submitted_at)
    elif status == "graded":
        stmt = stmt.where(AssignmentGrade.id.is_not(None))
    elif status == "late":
        stmt = stmt.where(submitted, AssignmentSubmission.late.is_(True))
    elif status == "draft":
        stmt = stmt.where(AssignmentSubmission.status == SubmissionStatus.DRAFT)
    if organization_id:
        # "By group": learners are grouped by the organization they come from.
        stmt = stmt.where(
            exists().where(
                and_(Membership.user_id == User.id, Membership.organization_id == organization_id)
            )
        )
    if search:
        like = f"%{search.lower()}%"
        stmt = stmt.where(or_(User.name.ilike(like), User.email.ilike(like)))
    return stmt.order_by(
        AssignmentSubmission.submitted_at.desc().nulls_last(), AssignmentSubmission.id
    )


def grading_overview(user: User) -> list[tuple[int, str, str, int]]:
    """(assignment id, title, course title, submissions waiting for a grade) for the assignments
    ``user`` grades: as a trainer of a partner organization or as an assigned grader. One query."""
    trainer_orgs = list(user.organization_ids(Role.TRAINER))
    waiting = func.count(AssignmentSubmission.id).filter(
        AssignmentSubmission.status == SubmissionStatus.SUBMITTED, AssignmentGrade.id.is_(None)
    )
    mine = or_(
        Assignment.id.in_(
            select(AssignmentGrader.assignment_id).where(AssignmentGrader.user_id == user.id)
        ),
        Assignment.course_id.in_(
            select(CoursePartner.course_id).where(
                CoursePartner.organization_id.in_(trainer_orgs or [0])
            )
        ),
    )
    stmt = (
        select(Assignment.id, Assignment.title, Course.title, waiting)
        .join(Course, Course.id == Assignment.course_id)
        .outerjoin(AssignmentSubmission, AssignmentSubmission.assignment_id == Assignment.id)
        .outerjoin(AssignmentGrade, AssignmentGrade.submission_id == AssignmentSubmission.id)
        .where(mine)
        .group_by(Assignment.id, Assignment.title, Course.title)
        .order_by(Course.title, Assignment.title)
    )
    return [tuple(row) for row in db.session.execute(stmt)]


def extension_rows(assignment_id: int) -> list[AssignmentExtension]:
    """The assignment's extensions, the earliest new due date first."""
    return list(
        db.session.scalars(
            select(AssignmentExtension)
            .where(AssignmentExtension.assignment_id == assignment_id)
            .order_by(AssignmentExtension.due_at)
        )
    )
