"""The API's reads, scoped to the token's organization; cursor pages fetch one row more than
asked to know whether another page follows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import selectinload

from lms.credentials.ledger import LedgerEntry
from lms.extensions import db
from lms.models import Department, Membership, Role, User
from lms.progress.models import Program, ProgramAssignment, ProgramCourse
from lms.progress.queries import assignment_status_expr

COMPLETION_KINDS = ("course_completed", "program_completed")


def member_ids(org_id: int):
    """Users with any membership in the organization (a subquery)."""
    return select(Membership.user_id).where(Membership.organization_id == org_id)


def _department_join(org_id: int):
    """Learner membership of the organization and its department (for outer joins)."""
    return (
        and_(
            Membership.user_id == User.id,
            Membership.organization_id == org_id,
            Membership.role == Role.LEARNER,
        ),
        Department.id == Membership.department_id,
    )


def programs_of(org_id: int) -> list[Program]:
    """The organization's programs with their courses (two queries)."""
    return list(
        db.session.scalars(
            select(Program)
            .where(Program.organization_id == org_id)
            .options(selectinload(Program.courses).selectinload(ProgramCourse.course))
            .order_by(Program.id)
        )
    )


def program_of(org_id: int, program_id: int) -> Program | None:
    """The program, if it belongs to the organization."""
    program = db.session.get(Program, program_id)
    return program if program is not None and program.organization_id == org_id else None


def assignment_rows(
    org_id: int,
    now: datetime,
    *,
    limit: int,
    after: int | None = None,
    program_id: int | None = None,
    user_id: int | None = None,
    status: str | None = None,
) -> list:
    """Up to ``limit + 1`` rows of (assignment, user, program name, department, status)."""
    on_membership, on_department = _department_join(org_id)
    stmt = (
        select(
            ProgramAssignment,
            User,
            Program.name,
            Department.name,
            assignment_status_expr(now).label("display_status"),
        )
        .join(User, User.id == ProgramAssignment.user_id)
        .join(Program, Program.id == ProgramAssignment.program_id)
        .outerjoin(Membership, on_membership)
        .outerjoin(Department, on_department)
        .where(ProgramAssignment.organization_id == org_id)
        .order_by(ProgramAssignment.id)
        .limit(limit + 1)
    )
    if program_id is not None:
        stmt = stmt.where(ProgramAssignment.program_id == program_id)
    if user_id is not None:
        stmt = stmt.where(ProgramAssignment.user_id == user_id)
    if status is not None:
        stmt = stmt.where(assignment_status_expr(now) == status)
    if after is not None:
        stmt = stmt.where(ProgramAssignment.id > after)
    return list(db.session.execute(stmt).all())


def employee_rows(org_id: int, *, limit: int, after: int | None = None) -> list:
    """Up to ``limit + 1`` rows of (user, department name) of the organization's learners."""
    on_membership, on_department = _department_join(org_id)
    stmt = (
        select(User, Department.name)
        .join(Membership, on_membership)
        .outerjoin(Department, on_department)
        .order_by(User.id)
        .limit(limit + 1)
    )
    if after is not None:
        stmt = stmt.where(User.id > after)
    return list(db.session.execute(stmt).all())


def member(org_id: int, user_id: int) -> tuple[User, str | None] | None:
    """(user, department name) if the user is a member of the organization."""
    on_membership, on_department = _department_join(org_id)
    row = db.session.execute(
        select(User, Department.name)
        .outerjoin(Membership, on_membership)
        .outerjoin(Department, on_department)
        .where(User.id == user_id, User.id.in_(member_ids(org_id)))
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def completion_entries(
    org_id: int, *, limit: int, after: int | None = None, since: datetime | None = None
) -> list:
    """Up to ``limit + 1`` ledger completions of the organization's members, in ledger order."""
    stmt = (
        select(LedgerEntry, User.name)
        .join(User, User.id == LedgerEntry.user_id)
        .where(LedgerEntry.kind.in_(COMPLETION_KINDS), LedgerEntry.user_id.in_(member_ids(org_id)))
        .order_by(LedgerEntry.seq)
        .limit(limit + 1)
    )
    if after is not None:
        stmt = stmt.where(LedgerEntry.seq > after)
    if since is not None:
        stmt = stmt.where(LedgerEntry.created_at >= since)
    return list(db.session.execute(stmt).all())
