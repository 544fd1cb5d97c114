"""The trainers' course report: learners x activities, set-based (a constant number of queries)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select

from lms.domain.models import Activity, Course, Enrolment, EnrolmentStatus, Module
from lms.extensions import db
from lms.models import Membership, Organization, User
from lms.pagination import SelectPage, paginate
from lms.progress.models import ActivityCompletion, CourseCompletion

PER_PAGE = 30


@dataclass(frozen=True)
class CourseReport:
    """One page of the completion matrix of a course."""

    activities: list[Activity]
    page: SelectPage  # rows of (id, name, email) of the learners on this page
    cells: dict[tuple[int, int], ActivityCompletion]  # (user id, activity id) -> state
    states: dict[int, CourseCompletion]  # user id -> course state
    organizations: list[Organization]  # the learners' organizations, for the filter


def course_activities(course_id: int) -> list[Activity]:
    """The course's activities in outline order."""
    return list(
        db.session.scalars(
            select(Activity)
            .join(Module, Module.id == Activity.module_id)
            .where(Activity.course_id == course_id)
            .order_by(Module.position, Module.id, Activity.position, Activity.id)
        )
    )


def course_learners(course_id: int, org_id: int | None) -> Select:
    """Active learners of the course (id, name, email), optionally of one organization."""
    stmt = (
        select(User.id, User.name, User.email)
        .join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.course_id == course_id, Enrolment.status == EnrolmentStatus.ACTIVE)
    )
    if org_id:
        members = select(Membership.user_id).where(Membership.organization_id == org_id)
        stmt = stmt.where(User.id.in_(members))
    return stmt.order_by(User.name, User.id)


def course_report(course: Course, org_id: int | None) -> CourseReport:
    """The report page: activities, one page of learners, their cells and course states."""
    page = paginate(course_learners(course.id, org_id), per_page=PER_PAGE, scalars=False)
    ids = [r.id for r in page.items]
    cells = {
        (r.user_id, r.activity_id): r
        for r in db.session.scalars(
            select(ActivityCompletion).where(
                ActivityCompletion.course_id == course.id, ActivityCompletion.user_id.in_(ids)
            )
        )
    }
    states = {
        cc.user_id: cc
        for cc in db.session.scalars(
            select(CourseCompletion).where(
                CourseCompletion.course_id == course.id, CourseCompletion.user_id.in_(ids)
            )
        )
    }
    enrolled = select(Enrolment.user_id).where(
        Enrolment.course_id == course.id, Enrolment.status == EnrolmentStatus.ACTIVE
    )
    organizations = db.session.scalars(
        select(Organization)
        .where(
            Organization.id.in_(
                select(Membership.organization_id).where(Membership.user_id.in_(enrolled))
            )
        )
        .order_by(Organization.name)
    ).all()
    return CourseReport(
        activities=course_activities(course.id),
        page=page,
        cells=cells,
        states=states,
        organizations=list(organizations),
    )


def report_rows(course_id: int, org_id: int | None) -> Select:
    """One streamable query for the CSV: each learner left-joined to their completion rows,
    ordered by learner, so a learner's line is written as soon as their cells are read."""
    learners = course_learners(course_id, org_id).subquery()
    return (
        select(
            learners.c.id,
            learners.c.name,
            learners.c.email,
            CourseCompletion.state,
            CourseCompletion.progress,
            CourseCompletion.grade,
            ActivityCompletion.activity_id,
            ActivityCompletion.completed,
            ActivityCompletion.failed,
            ActivityCompletion.grade,
        )  # fmt: skip
        .outerjoin(
            CourseCompletion,
            (CourseCompletion.user_id == learners.c.id) & (CourseCompletion.course_id == course_id),
        )
        .outerjoin(
            ActivityCompletion,
            (ActivityCompletion.user_id == learners.c.id)
            & (ActivityCompletion.course_id == course_id),
        )
        .order_by(learners.c.name, learners.c.id)
    )


def enrolled_learner(course_id: int, user_id: int) -> User | None:
    """The user, if they are an active learner of the course (else ``None``: a 404)."""
    return db.session.scalar(
        select(User)
        .join(Enrolment, Enrolment.user_id == User.id)
        .where(
            User.id == user_id,
            Enrolment.course_id == course_id,
            Enrolment.status == EnrolmentStatus.ACTIVE,
        )
    )
