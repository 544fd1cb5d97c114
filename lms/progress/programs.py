"""Programs: create and edit them, assign them to employees, a department or everyone.

Services flush and never commit. Assignment status is stored as assigned / in_progress /
completed / expired; "overdue" is derived from ``due_at`` (see
:func:`lms.progress.queries.assignment_status_expr`). Progress of assignments is in
:mod:`lms.progress.assignments`, reminders and re-certification in :mod:`lms.progress.reminders`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, or_, select

from lms.domain.models import Course, CoursePartner, CourseStatus, Visibility
from lms.domain.services import enrol_user
from lms.errors import DomainError, InvalidFields
from lms.extensions import db
from lms.mail import send_mail
from lms.models import Department, Membership, Organization, Role, User
from lms.progress.assignments import (
    OPEN_STATUSES,
    learning_link,
    notify,
    refresh_assignments,
)
from lms.progress.models import (
    AssignmentStatus,
    Program,
    ProgramAssignment,
    ProgramCourse,
    ProgramPurpose,
)
from lms.timeutil import utcnow

#: due date of a re-certification cycle when the program's fixed due date has passed
RECERT_DEFAULT_DAYS = 30


@dataclass(frozen=True)
class ProgramData:
    """Validated program fields (from the form or the API)."""

    name: str
    purpose: str
    description: str
    course_ids: Sequence[int]
    completion_mode: str = "all"
    completion_count: int | None = None
    due_mode: str = "fixed"
    due_date: date | None = None
    due_days: int | None = None
    validity_months: int | None = None


def assignable_courses(org: Organization) -> Select:
    """Published courses the organization's learners may take (cluster-wide or as a partner)."""
    partner = select(CoursePartner.course_id).where(CoursePartner.organization_id == org.id)
    return (
        select(Course)
        .where(
            Course.status == CourseStatus.PUBLISHED,
            or_(Course.visibility == Visibility.CLUSTER, Course.id.in_(partner)),
        )
        .order_by(Course.title)
    )


def program_problems(
    data: ProgramData, org: Organization, today: date, kept_due: date | None = None
) -> tuple[list[DomainError], list[Course]]:
    """Every problem of ``data`` at once (each naming its field), and the chosen courses."""
    problems: list[DomainError] = []
    name = (data.name or "").strip()
    if not name:
        problems.append(DomainError("Enter a name for the program.", field="name"))
    elif len(name) > 200:
        problems.append(DomainError("Keep the name under 200 characters.", field="name"))
    if data.purpose not in set(ProgramPurpose):
        problems.append(DomainError("Choose the purpose of the program.", field="purpose"))
    ids = list(dict.fromkeys(int(i) for i in data.course_ids))
    allowed = _allowed_courses(org, ids)
    if not ids:
        problems.append(
            DomainError("Choose at least one course for the program.", field="course_ids")
        )
    elif set(ids) - set(allowed):
        problems.append(
            DomainError(
                "Some chosen courses are not published or not open to your organization.",
                field="course_ids",
            )
        )
    problems += _completion_problems(data, ids) + _due_problems(data, today, kept_due)
    if data.validity_months is not None and not 1 <= data.validity_months <= 120:
        problems.append(
            DomainError("Validity is 1 to 120 months, or empty.", field="validity_months")
        )
    return problems, [allowed[i] for i in ids if i in allowed]


def _allowed_courses(org: Organization, ids: list[int]) -> dict[int, Course]:
    """Those of the chosen courses that ``org`` may assign, by id (no query without a choice)."""
    if not ids:
        return {}
    return {c.id: c for c in db.session.scalars(assignable_courses(org).where(Course.id.in_(ids)))}


def _completion_problems(data: ProgramData, ids: list[int]) -> list[DomainError]:
    """Problems of the completion rule: all the courses, or n of them (1 to the number chosen)."""
    problems = []
    if data.completion_mode not in ("all", "n_of"):
        problems.append(DomainError("Choose how the program is completed.", "completion_mode"))
    most = max(len(ids), 1)
    if data.completion_mode == "n_of" and not 1 <= (data.completion_count or 0) <= most:
        problems.append(
            DomainError(
                f"Enter how many of the {len(ids)} courses complete the program (1 to {most})."
                if ids
                else "Enter how many of the chosen courses complete the program.",
                field="completion_count",
            )
        )
    return problems


def _due_problems(data: ProgramData, today: date, kept_due: date | None) -> list[DomainError]:
    """Problems of the due date: a fixed date from today on (an unchanged one may stay in the
    past), or a number of days after assignment."""
    if data.due_mode == "fixed":
        if data.due_date is None:
            return [DomainError("Enter the due date.", field="due_date")]
        if data.due_date < today and data.due_date != kept_due:
            return [DomainError("The due date must be today or later.", field="due_date")]
    elif data.due_mode == "relative":
        if not data.due_days or not 1 <= data.due_days <= 3650:
            return [
                DomainError("Enter the number of days after assignment (1 to 3650).", "due_days")
            ]
    else:
        return [DomainError("Choose how the due date is set.", field="due_mode")]
    return []


def _check(
    data: ProgramData, org: Organization, today: date, kept_due: date | None = None
) -> list[Course]:
    problems, courses = program_problems(data, org, today, kept_due)
    if problems:
        raise InvalidFields(problems)
    return courses


def _apply(program: Program, data: ProgramData, courses: list[Course]) -> None:
    program.name = data.name.strip()
    program.purpose = data.purpose
    program.description = (data.description or "").strip()
    program.completion_mode = data.completion_mode
    program.completion_count = data.completion_count if data.completion_mode == "n_of" else None
    program.due_mode = data.due_mode
    program.due_date = (
        datetime.combine(data.due_date, time(23, 59, 59)) if data.due_mode == "fixed" else None
    )
    program.due_days = data.due_days if data.due_mode == "relative" else None
    program.validity_months = data.validity_months
    current = {pc.course_id: pc for pc in program.courses}
    wanted = [c.id for c in courses]
    for course_id, pc in current.items():
        if course_id not in wanted:
            program.courses.remove(pc)
    for position, course in enumerate(courses):
        pc = current.get(course.id)
        if pc is None:
            program.courses.append(ProgramCourse(course_id=course.id, position=position))
        else:
            pc.position = position


def create_program(org: Organization, data: ProgramData, by: User | None) -> Program:
    """Create a program of ``org`` (validated: at least one open course, a due date not past)."""
    courses = _check(data, org, utcnow().date())
    program = Program(organization_id=org.id, created_by_id=by.id if by else None, archived=False)
    _apply(program, data, courses)
    db.session.add(program)
    db.session.flush()
    return program


def update_program(program: Program, data: ProgramData) -> Program:
    """Change a program; open assignments get the new courses (enrolled) and progress."""
    org = db.session.get(Organization, program.organization_id)
    before = {pc.course_id for pc in program.courses}
    kept_due = program.due_date.date() if program.due_date else None
    courses = _check(data, org, utcnow().date(), kept_due)
    open_assignments = db.session.scalars(
        select(ProgramAssignment).where(
            ProgramAssignment.program_id == program.id,
            ProgramAssignment.status.in_(OPEN_STATUSES),
        )
    ).all()
    # Which open assignments have the program's due date (the others got their own when HR
    # assigned them, and keep it).
    followers = [a for a in open_assignments if a.due_at == due_for(program, a.assigned_at)]
    _apply(program, data, courses)
    db.session.flush()
    # Those follow a changed due date (e.g. HR extends the deadline).
    for a in followers:
        a.due_at = due_for(program, a.assigned_at)
    added = [c for c in courses if c.id not in before]
    if added:
        open_rows = db.session.execute(
            select(ProgramAssignment.user_id, ProgramAssignment.assigned_by_id).where(
                ProgramAssignment.program_id == program.id,
                ProgramAssignment.status.in_(OPEN_STATUSES),
            )
        ).all()
        users = users_by_id([r.user_id for r in open_rows])
        for row in open_rows:
            for course in added:
                enrol_user(users[row.user_id], course, "program", None)
    refresh_assignments(program_id=program.id)
    return program


def users_by_id(ids: Iterable[int]) -> dict[int, User]:
    """Users of these ids, keyed by id."""
    ids = list(set(ids))
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def due_for(program: Program, assigned_at: datetime, recertification: bool = False) -> datetime:
    """The due date of an assignment made at ``assigned_at``."""
    if program.due_mode == "relative" and program.due_days:
        return assigned_at + timedelta(days=program.due_days)
    if program.due_date is not None and program.due_date >= assigned_at:
        return program.due_date
    # A fixed date already past (only possible for re-certification cycles): give time to redo.
    return assigned_at + timedelta(days=RECERT_DEFAULT_DAYS)


def org_learner_ids(org_id: int, department_id: int | None = None) -> Select:
    """Ids of the organization's learners (employees), optionally of one department."""
    stmt = select(Membership.user_id).where(
        Membership.organization_id == org_id, Membership.role == Role.LEARNER
    )
    if department_id is not None:
        stmt = stmt.where(Membership.department_id == department_id)
    return stmt


@dataclass(frozen=True)
class AssignResult:
    """How many assignments were created and how many already existed."""

    created: int
    already: int


def assignment_due(due_date: date | None, now: datetime) -> datetime | None:
    """The end of ``due_date`` as an assignment's own due date (``None``: the program's)."""
    if due_date is None:
        return None
    if due_date < now.date():
        raise DomainError("The due date must be today or later.", field="due_date")
    return datetime.combine(due_date, time(23, 59, 59))


def assign_program(
    program: Program,
    user_ids: Iterable[int],
    by: User | None,
    now: datetime | None = None,
    due_date: date | None = None,
) -> AssignResult:
    """Assign ``program`` to employees of its organization; idempotent, all or nothing.

    Everyone must be a learner of the program's organization (else nothing is written). People
    with an open or completed (not yet expired) assignment are skipped. New assignees are
    enrolled in every course (method "program") and notified in the app and by mail. A
    ``due_date`` gives these assignments their own due date instead of the program's.
    """
    now = now or utcnow()
    due = assignment_due(due_date, now)
    if program.archived:
        raise DomainError("This program is archived: restore it before assigning it.")
    if not program.courses:
        raise DomainError("The program has no courses.")
    ids = list(dict.fromkeys(int(i) for i in user_ids))
    if not ids:
        raise DomainError("Choose at least one employee.", field="user_ids")
    members = set(
        db.session.scalars(
            org_learner_ids(program.organization_id).where(Membership.user_id.in_(ids))
        )
    )
    outsiders = [i for i in ids if i not in members]
    if outsiders:
        raise DomainError(
            "Programs can only be assigned to employees (learners) of your organization.",
            field="user_ids",
        )
    current = set(
        db.session.scalars(
            select(ProgramAssignment.user_id).where(
                ProgramAssignment.program_id == program.id,
                ProgramAssignment.user_id.in_(ids),
                ProgramAssignment.status != AssignmentStatus.EXPIRED,
            )
        )
    )
    new_ids = [i for i in ids if i not in current]
    create_assignments(program, new_ids, by, now, cycle_of={}, due=due)
    return AssignResult(created=len(new_ids), already=len(ids) - len(new_ids))


def assign_department(
    program: Program, department: Department, by: User, due_date: date | None = None
) -> AssignResult:
    """Assign ``program`` to every learner of ``department`` (of the program's organization)."""
    if department.organization_id != program.organization_id:
        raise DomainError("That department is not part of your organization.", field="department")
    ids = list(db.session.scalars(org_learner_ids(program.organization_id, department.id)))
    if not ids:
        raise DomainError(f"The {department.name} department has no employees yet.")
    return assign_program(program, ids, by, due_date=due_date)


def assign_everyone(program: Program, by: User, due_date: date | None = None) -> AssignResult:
    """Assign ``program`` to every learner of its organization."""
    ids = list(db.session.scalars(org_learner_ids(program.organization_id)))
    if not ids:
        raise DomainError("Your organization has no employees (learners) yet.")
    return assign_program(program, ids, by, due_date=due_date)


def create_assignments(
    program: Program,
    user_ids: list[int],
    by: User | None,
    now: datetime,
    cycle_of: dict[int, int],
    due: datetime | None = None,
) -> list[ProgramAssignment]:
    """Insert program assignments for these employees with their due date and cycle."""
    if not user_ids:
        return []
    due = due or due_for(program, now, recertification=bool(cycle_of))
    rows = []
    for user_id in user_ids:
        row = ProgramAssignment(
            program_id=program.id,
            organization_id=program.organization_id,
            user_id=user_id,
            assigned_by_id=by.id if by else None,
            assigned_at=now,
            due_at=due,
            status=AssignmentStatus.ASSIGNED,
            progress=0.0,
            courses_completed=0,
            cycle=cycle_of.get(user_id, 1),
        )
        db.session.add(row)
        rows.append(row)
    db.session.flush()
    users = users_by_id(user_ids)
    courses = [pc.course for pc in program.courses]
    for user_id in user_ids:
        for course in courses:
            enrol_user(users[user_id], course, "program", by)
    link = learning_link()
    due_text = f"{due:%d %b %Y}"
    for row in rows:
        user = users[row.user_id]
        again = " again (re-certification)" if row.cycle > 1 else ""
        message = f"You have been assigned “{program.name}”{again}. Due {due_text}."
        notify(user, "program_assigned", message, link)
        send_mail(
            user.email,
            f"New training assigned: {program.name}",
            f"Hello {user.name},\n\n{message}\n\nCourses:\n"
            + "".join(f"- {c.title}\n" for c in courses)
            + f"\nStart here: {link}\n",
        )
    refresh_assignments(user_ids=user_ids, program_id=program.id)
    return rows
