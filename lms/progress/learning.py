"""Read side of "My learning": courses, next activities, due dates and certificates (the skill
profile on the page comes from lms.skills).

A constant number of queries per page whatever the number of courses.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.domain.access import course_locks
from lms.domain.models import (
    Activity,
    CompletionRule,
    Course,
    Enrolment,
    EnrolmentStatus,
    Module,
)
from lms.extensions import db
from lms.progress.models import (
    ActivityCompletion,
    AssignmentStatus,
    CompletionState,
    CourseCompletion,
    Program,
    ProgramAssignment,
    ProgramCourse,
)


@dataclass
class CourseCard:
    """One course on the learner's overview with state, progress and grade."""

    course: Course
    state: str
    progress: float
    grade: float | None
    completed_at: datetime | None
    last_activity_at: datetime | None
    next_activity: Activity | None = None
    due_at: datetime | None = None
    program: str | None = None
    overdue: bool = False


@dataclass
class Overview:
    """Learner's courses in progress and completed, and program assignments."""

    in_progress: list[CourseCard] = field(default_factory=list)
    completed: list[CourseCard] = field(default_factory=list)
    assignments: list[ProgramAssignment] = field(default_factory=list)


def next_activities(user_id: int, course_ids: list[int], now: datetime) -> dict[int, Activity]:
    """Per course: the first required, incomplete activity the learner may open (2 queries)."""
    if not course_ids:
        return {}
    activities = (
        db.session.execute(
            select(Activity)
            .join(Module, Module.id == Activity.module_id)
            .where(Activity.course_id.in_(course_ids))
            .options(joinedload(Activity.conditions))
            .order_by(
                Activity.course_id, Module.position, Module.id, Activity.position, Activity.id
            )
        )
        .unique()
        .scalars()
        .all()
    )
    states = {
        r.activity_id: r
        for r in db.session.scalars(
            select(ActivityCompletion).where(
                ActivityCompletion.user_id == user_id, ActivityCompletion.course_id.in_(course_ids)
            )
        )
    }
    by_course: dict[int, list[Activity]] = defaultdict(list)
    for a in activities:
        by_course[a.course_id].append(a)
    result: dict[int, Activity] = {}
    for course_id, items in by_course.items():
        locks = course_locks(items, states, now)
        candidates = [
            a for a in items
            if a.completion_rule != CompletionRule.NONE and not (states.get(a.id) and states[a.id].completed)
        ]  # fmt: skip
        required = [a for a in candidates if a.required] or candidates
        open_ = [a for a in required if a.id not in locks]
        pick = (open_ or required or [None])[0]
        if pick is not None:
            result[course_id] = pick
    return result


def learner_overview(user_id: int, now: datetime) -> Overview:
    """Everything "My learning" shows for one learner."""
    assignments = _current_assignments(user_id)
    due = _program_due_dates(assignments)
    overview = Overview(assignments=assignments)
    for course, cc in _enrolled_courses(user_id):
        card = CourseCard(
            course=course,
            state=cc.state if cc else "not_started",
            progress=cc.progress if cc else 0.0,
            grade=cc.grade if cc else None,
            completed_at=cc.completed_at if cc else None,
            last_activity_at=cc.last_activity_at if cc else None,
        )
        if card.state == CompletionState.COMPLETED:
            overview.completed.append(card)
            continue
        if course.id in due:
            card.due_at, card.program = due[course.id]
            card.overdue = card.due_at < now
        overview.in_progress.append(card)
    nexts = next_activities(user_id, [c.course.id for c in overview.in_progress], now)
    for card in overview.in_progress:
        card.next_activity = nexts.get(card.course.id)
    # Courses due soonest first, then recently active ones.
    overview.in_progress.sort(key=lambda c: (c.due_at is None, c.due_at or now))
    return overview


def _enrolled_courses(user_id: int) -> list:
    """(Course, CourseCompletion or None) of the active enrolments, recently active first."""
    return db.session.execute(
        select(Course, CourseCompletion)
        .join(Enrolment, Enrolment.course_id == Course.id)
        .outerjoin(
            CourseCompletion,
            (CourseCompletion.course_id == Course.id) & (CourseCompletion.user_id == user_id),
        )
        .where(Enrolment.user_id == user_id, Enrolment.status == EnrolmentStatus.ACTIVE)
        .order_by(CourseCompletion.last_activity_at.desc().nulls_last(), Course.title)
    ).all()


def _current_assignments(user_id: int) -> list[ProgramAssignment]:
    """The learner's program assignments that have not expired, with their programs' courses."""
    return list(
        db.session.execute(
            select(ProgramAssignment)
            .where(
                ProgramAssignment.user_id == user_id,
                ProgramAssignment.status != AssignmentStatus.EXPIRED,
            )
            .options(joinedload(ProgramAssignment.program).joinedload(Program.courses))
            .order_by(ProgramAssignment.due_at.nulls_last())
        )
        .unique()
        .scalars()
        .all()
    )


def _program_due_dates(assignments: list[ProgramAssignment]) -> dict[int, tuple[datetime, str]]:
    """Per course: the earliest due date of an open program assignment, and that program."""
    due: dict[int, tuple[datetime, str]] = {}
    for a in assignments:
        if a.status == AssignmentStatus.COMPLETED or a.due_at is None:
            continue
        for pc in a.program.courses:
            pc: ProgramCourse
            if pc.course_id not in due or a.due_at < due[pc.course_id][0]:
                due[pc.course_id] = (a.due_at, a.program.name)
    return due
