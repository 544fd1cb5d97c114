"""HR's read side: program and organization figures, the employee table and its filters.

Set-based queries (joins and aggregates): the number of queries of a page does not grow with the
number of employees or programs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    Integer,
    Select,
    and_,
    case,
    cast,
    distinct,
    func,
    or_,
    select,
)
from sqlalchemy.orm import selectinload

from lms.extensions import db
from lms.models import Department, Membership, Role, User
from lms.pagination import ComputedPage, computed_page
from lms.progress.models import (
    AssignmentStatus,
    CompletionState,
    CourseCompletion,
    Program,
    ProgramAssignment,
)
from lms.progress.queries import (
    DISPLAY_STATUSES,
    assignment_status_expr,
    days_between,
    status_condition,
)
from lms.skills.models import CourseOutcome, Skill

STATUS_FIGURES = ("not_started", "in_progress", "completed", "overdue")


def program_figures(org_id: int, now: datetime) -> list[dict]:
    """Per program of the organization: counts by status, completion rate, median days.

    Three queries whatever the number of employees: programs, grouped counts, and a windowed
    median of the days from assignment to completion.
    """
    programs = db.session.scalars(
        select(Program)
        .where(Program.organization_id == org_id)
        .options(selectinload(Program.courses))
        .order_by(Program.archived, Program.created_at.desc(), Program.id.desc())
    ).all()
    counts = _status_counts(org_id, now)
    medians = _median_days(org_id)
    return [_program_figure(p, counts.get(p.id), medians.get(p.id)) for p in programs]


def program_figure(org_id: int, program_id: int, now: datetime) -> dict | None:
    """The figures of one program of the organization (as :func:`program_figures` has them)."""
    return next((f for f in program_figures(org_id, now) if f["program"].id == program_id), None)


def _status_counts(org_id: int, now: datetime) -> dict:
    """Per program: the current assignments, in total and by display status (one query)."""
    status = assignment_status_expr(now)
    a = ProgramAssignment
    return {
        r.program_id: r
        for r in db.session.execute(
            select(
                a.program_id,
                func.count().label("total"),
                *[func.sum(case((status == s, 1), else_=0)).label(s) for s in STATUS_FIGURES],
            )
            .where(a.organization_id == org_id, a.status != AssignmentStatus.EXPIRED)
            .group_by(a.program_id)
        )
    }


def _median_days(org_id: int) -> dict:
    """Per program: the median days from assignment to completion (a windowed query)."""
    a = ProgramAssignment
    days = days_between(a.assigned_at, a.completed_at).label("days")
    ranked = (
        select(
            a.program_id,
            days,
            func.row_number().over(partition_by=a.program_id, order_by=days).label("rn"),
            func.count().over(partition_by=a.program_id).label("n"),
        )
        .where(a.organization_id == org_id, a.completed_at.is_not(None))
        .subquery()
    )
    return dict(
        db.session.execute(
            select(ranked.c.program_id, func.avg(ranked.c.days))
            .where(
                ranked.c.rn.in_(
                    [cast((ranked.c.n + 1) / 2, Integer), cast((ranked.c.n + 2) / 2, Integer)]
                )
            )
            .group_by(ranked.c.program_id)
        ).all()
    )


def _program_figure(program: Program, counts, median_days) -> dict:
    """One program's figures from its grouped counts and median (either may be missing)."""
    figures = {s: int(getattr(counts, s) or 0) if counts else 0 for s in STATUS_FIGURES}
    total = int(counts.total) if counts else 0
    return {
        "program": program,
        "total": total,
        **figures,
        "rate": round(100.0 * figures["completed"] / total, 1) if total else None,
        "median_days": round(float(median_days), 1) if median_days is not None else None,
    }


def org_figures(org_id: int, now: datetime) -> dict:
    """Headline figures: employees, assignments by status (two queries)."""
    employees = db.session.scalar(
        select(func.count(distinct(Membership.user_id))).where(
            Membership.organization_id == org_id, Membership.role == Role.LEARNER
        )
    )
    status = assignment_status_expr(now)
    a = ProgramAssignment
    row = db.session.execute(
        select(
            func.count().label("total"),
            func.sum(case((status == "completed", 1), else_=0)).label("completed"),
            func.sum(case((status == "overdue", 1), else_=0)).label("overdue"),
        ).where(a.organization_id == org_id, a.status != AssignmentStatus.EXPIRED)
    ).one()
    total = int(row.total or 0)
    completed = int(row.completed or 0)
    return {
        "employees": int(employees or 0),
        "assignments": total,
        "completed": completed,
        "overdue": int(row.overdue or 0),
        "rate": round(100.0 * completed / total, 1) if total else None,
    }


def org_skills(org_id: int, limit: int = 12) -> list[tuple[str, int]]:
    """Skills gained by the organization's employees: skill, number of people (one query)."""
    learners = select(Membership.user_id).where(
        Membership.organization_id == org_id, Membership.role == Role.LEARNER
    )
    people = func.count(distinct(CourseCompletion.user_id))
    return [
        (r[0], int(r[1]))
        for r in db.session.execute(
            select(Skill.preferred_label, people)
            .join(CourseOutcome, CourseOutcome.skill_id == Skill.id)
            .join(CourseCompletion, CourseCompletion.course_id == CourseOutcome.course_id)
            .where(
                CourseCompletion.state == CompletionState.COMPLETED,
                CourseCompletion.user_id.in_(learners),
            )
            .group_by(Skill.preferred_label)
            .order_by(people.desc(), Skill.preferred_label)
            .limit(limit)
        )
    ]


EMPLOYEE_SORTS = {
    "name": User.name,
    "department": Department.name,
    "program": Program.name,
    "status": "status",
    "progress": ProgramAssignment.progress,
    "last_activity": ProgramAssignment.last_activity_at,
    "due": ProgramAssignment.due_at,
}


def employee_rows(
    org_id: int,
    now: datetime,
    *,
    department_id: int | None = None,
    program_id: int | None = None,
    status: str | None = None,
    overdue: bool = False,
    q: str = "",
    sort: str = "name",
    direction: str = "asc",
):
    """The employee table: one row per current assignment, filtered and sorted, as one SELECT."""
    a = ProgramAssignment
    status_col = assignment_status_expr(now).label("status")
    stmt = _employee_columns(org_id, status_col)
    if status != "expired":
        stmt = stmt.where(a.status != AssignmentStatus.EXPIRED)
    if department_id:
        stmt = stmt.where(Membership.department_id == department_id)
    if program_id:
        stmt = stmt.where(a.program_id == program_id)
    if status in DISPLAY_STATUSES:
        stmt = stmt.where(status_condition(status, now))
    if overdue:
        stmt = stmt.where(status_condition("overdue", now))
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(User.name).like(like), User.email.like(like)))
    key = EMPLOYEE_SORTS.get(sort, User.name)
    column = status_col if key == "status" else key
    ordered = column.desc() if direction == "desc" else column.asc()
    return stmt.order_by(ordered.nulls_last(), User.name, a.id)


def _employee_columns(org_id: int, status_col) -> Select:
    """The employee table's columns: the assignment with its learner, program and department."""
    a = ProgramAssignment
    return (
        select(
            a.id.label("assignment_id"),
            User.id.label("user_id"),
            User.name.label("name"),
            User.email.label("email"),
            Department.name.label("department"),
            Program.id.label("program_id"),
            Program.name.label("program"),
            status_col,
            a.progress,
            a.courses_completed,
            a.last_activity_at,
            a.due_at,
            a.completed_at,
            a.cycle,
        )
        .select_from(a)
        .join(User, User.id == a.user_id)
        .join(Program, Program.id == a.program_id)
        .outerjoin(
            Membership,
            and_(
                Membership.user_id == a.user_id,
                Membership.organization_id == a.organization_id,
                Membership.role == Role.LEARNER,
            ),
        )
        .outerjoin(Department, Department.id == Membership.department_id)
        .where(a.organization_id == org_id)
    )


def _employee_ids(org_id: int, now: datetime, f: dict, for_count: bool = False) -> Select:
    """Ids of the matching assignments, joining only what the filters (and the sort) need."""
    a = ProgramAssignment
    sort = f.get("sort", "name")
    need_user = bool(f.get("q")) or (sort == "name" and not for_count)
    need_dept = bool(f.get("department_id")) or (sort == "department" and not for_count)
    need_program = sort == "program" and not for_count
    stmt = select(func.count(a.id) if for_count else a.id).where(a.organization_id == org_id)
    if f.get("status") != "expired":
        stmt = stmt.where(a.status != AssignmentStatus.EXPIRED)
    if f.get("program_id"):
        stmt = stmt.where(a.program_id == f["program_id"])
    status = assignment_status_expr(now)
    if f.get("status") in DISPLAY_STATUSES:
        stmt = stmt.where(status_condition(f["status"], now))
    if f.get("overdue"):
        stmt = stmt.where(status_condition("overdue", now))
    if need_user:
        stmt = stmt.join(User, User.id == a.user_id)
    if f.get("q"):
        like = f"%{f['q'].lower()}%"
        stmt = stmt.where(or_(func.lower(User.name).like(like), User.email.like(like)))
    if need_dept:
        stmt = stmt.outerjoin(
            Membership,
            and_(
                Membership.user_id == a.user_id,
                Membership.organization_id == a.organization_id,
                Membership.role == Role.LEARNER,
            ),  # fmt: skip
        ).outerjoin(Department, Department.id == Membership.department_id)
        if f.get("department_id"):
            stmt = stmt.where(Membership.department_id == f["department_id"])
    if need_program:
        stmt = stmt.join(Program, Program.id == a.program_id)
    if for_count:
        return stmt
    column = {"name": User.name, "department": Department.name, "program": Program.name,
              "status": status, "progress": a.progress, "last_activity": a.last_activity_at,
              "due": a.due_at}.get(sort, User.name)  # fmt: skip
    ordered = column.desc() if f.get("direction") == "desc" else column.asc()
    if sort in ("department", "last_activity", "due"):  # nullable: blanks last either way
        ordered = ordered.nulls_last()
    return stmt.order_by(ordered, a.id.desc() if f.get("direction") == "desc" else a.id)


def employee_page(org_id: int, now: datetime, number: int, per_page: int, **f) -> ComputedPage:
    """One page of the employee table in three set-based queries (a "deferred join").

    The count and the ordered id list touch only the assignment table (with the joins a filter
    or the sort needs); the display columns are then fetched for the page's ids alone. With the
    (organization, column) indexes the sorted id scan stops after the page, so the cost barely
    grows with the number of employees.
    """
    total = db.session.scalar(_employee_ids(org_id, now, f, for_count=True)) or 0
    pages = max(1, -(-total // per_page))
    number = min(max(1, number), pages)
    ids = list(
        db.session.scalars(
            _employee_ids(org_id, now, f).limit(per_page).offset((number - 1) * per_page)
        )
    )
    rows = []
    if ids:
        detail = employee_rows(
            org_id, now, status="expired" if f.get("status") == "expired" else None
        )
        by_id = {
            r.assignment_id: r
            for r in db.session.execute(detail.order_by(None).where(ProgramAssignment.id.in_(ids)))
        }
        rows = [by_id[i] for i in ids if i in by_id]
    return computed_page(rows, total, number, per_page)


def employee_in_org(org_id: int, user_id: int) -> User | None:
    """The user, if they hold any membership in the organization (else None: show a 404)."""
    return db.session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, Membership.organization_id == org_id)
        .limit(1)
    )


def org_departments(org_id: int) -> Sequence[Department]:
    """Departments of an organization, by name."""
    return db.session.scalars(
        select(Department).where(Department.organization_id == org_id).order_by(Department.name)
    ).all()


def org_programs(org_id: int) -> Sequence[Program]:
    """The organization's programs by name (archived ones too: the filter offers them)."""
    return db.session.scalars(
        select(Program).where(Program.organization_id == org_id).order_by(Program.name)
    ).all()


def org_learners(org_id: int) -> list:
    """(id, name, department name) of the organization's learners, by name."""
    return list(
        db.session.execute(
            select(User.id, User.name, Department.name)
            .join(Membership, Membership.user_id == User.id)
            .outerjoin(Department, Department.id == Membership.department_id)
            .where(Membership.organization_id == org_id, Membership.role == Role.LEARNER)
            .order_by(User.name)
        )
    )
