"""One employee's transcript: the one function behind the HR page and the API, so they agree.

What an organization may see of its employee: the programs *it* assigned, every course the
employee is enrolled in with its completion, certificates of courses and of *its* programs (a
program certificate of another organization is that organization's to share), the earlier
certification cycles and the skills of the courses completed.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.engine import Row
from sqlalchemy.orm import selectinload

from lms.credentials.models import Certificate
from lms.domain.models import Activity, Course, Enrolment, Module
from lms.extensions import db
from lms.models import Membership, User
from lms.plugins import activity_registry
from lms.progress.models import (
    ActivityCompletion,
    CompletionHistory,
    CompletionState,
    CourseCompletion,
    Program,
    ProgramAssignment,
)


@dataclass(frozen=True)
class Transcript:
    """An employee's learning record as their organization sees it."""

    employee: User
    membership: Membership | None
    assignments: list[ProgramAssignment]
    courses: list[Row]  # (Course, Enrolment, CourseCompletion | None), by title
    certificates: list[Certificate]
    history: list[Row]  # (CompletionHistory, course title), newest first
    skills: list[str]  # preferred labels of the skills of the completed courses

    def course_ids(self) -> list[int]:
        """Ids of the courses the employee is enrolled in."""
        return [course.id for course, _, _ in self.courses]


def employee_transcript(employee: User, organization_id: int) -> Transcript:
    """The transcript of ``employee`` for ``organization_id`` (a constant number of queries)."""
    courses = _courses(employee)
    return Transcript(
        employee=employee,
        membership=_membership(employee, organization_id),
        assignments=_assignments(employee, organization_id),
        courses=courses,
        certificates=_certificates(employee, organization_id),
        history=_history(employee),
        skills=_completed_skills(courses),
    )


def _membership(employee: User, organization_id: int) -> Membership | None:
    """The employee's membership there, one with a department first."""
    return db.session.scalar(
        select(Membership)
        .where(Membership.user_id == employee.id, Membership.organization_id == organization_id)
        .order_by(Membership.department_id.is_(None))
    )


def _assignments(employee: User, organization_id: int) -> list[ProgramAssignment]:
    """The programs this organization assigned to the employee, newest first."""
    return list(
        db.session.scalars(
            select(ProgramAssignment)
            .where(
                ProgramAssignment.user_id == employee.id,
                ProgramAssignment.organization_id == organization_id,
            )
            .options(selectinload(ProgramAssignment.program))
            .order_by(ProgramAssignment.assigned_at.desc(), ProgramAssignment.id.desc())
        )
    )


def _courses(employee: User) -> list[Row]:
    """Every course the employee is enrolled in, with the enrolment and completion, by title."""
    return list(
        db.session.execute(
            select(Course, Enrolment, CourseCompletion)
            .join(Enrolment, Enrolment.course_id == Course.id)
            .outerjoin(
                CourseCompletion,
                (CourseCompletion.course_id == Course.id)
                & (CourseCompletion.user_id == employee.id),
            )
            .where(Enrolment.user_id == employee.id)
            .options(selectinload(Course.skills))
            .order_by(Course.title, Course.id)
        )
    )


def _certificates(employee: User, organization_id: int) -> list[Certificate]:
    """Course certificates, and program certificates of this organization's programs only."""
    return list(
        db.session.scalars(
            select(Certificate)
            .outerjoin(Program, Program.id == Certificate.program_id)
            .where(
                Certificate.user_id == employee.id,
                (Certificate.kind == "course") | (Program.organization_id == organization_id),
            )
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )


def _history(employee: User) -> list[Row]:
    """The employee's earlier certification cycles with the course title, newest first."""
    return list(
        db.session.execute(
            select(CompletionHistory, Course.title)
            .join(Course, Course.id == CompletionHistory.course_id)
            .where(CompletionHistory.user_id == employee.id)
            .order_by(CompletionHistory.archived_at.desc())
        )
    )


def _completed_skills(courses: list[Row]) -> list[str]:
    """Preferred labels of the skills of the completed courses, sorted."""
    return sorted(
        {
            skill.preferred_label
            for course, _, completion in courses
            if completion is not None and completion.state == CompletionState.COMPLETED
            for skill in course.skills
        }
    )


def activity_details(employee: User, course_ids: list[int]) -> dict[int, list[dict]]:
    """Per course, each activity with the employee's state and its plugin's summary (HR page)."""
    activities = db.session.scalars(
        select(Activity)
        .join(Module, Module.id == Activity.module_id)
        .where(Activity.course_id.in_(course_ids))
        .order_by(Activity.course_id, Module.position, Activity.position, Activity.id)
    ).all()
    states = {
        state.activity_id: state
        for state in db.session.scalars(
            select(ActivityCompletion).where(
                ActivityCompletion.user_id == employee.id,
                ActivityCompletion.course_id.in_(course_ids),
            )
        )
    }
    registry = activity_registry()
    details: dict[int, list[dict]] = {}
    for activity in activities:
        plugin = registry.get(activity.type)
        summary = {}
        if plugin is not None:
            try:
                summary = plugin.learner_summary(activity, employee) or {}
            except Exception:  # a plugin's summary must never break HR's page
                current_app.logger.exception("learner_summary failed for activity %s", activity.id)
        details.setdefault(activity.course_id, []).append(
            {
                "activity": activity,
                "state": states.get(activity.id),
                "summary": summary,
                "label": plugin.label if plugin else activity.type,
            }
        )
    return details
