"""Demo programs for Acme, with employees at every stage (a late seed step: needs the courses)."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from lms.domain.models import Activity, CompletionRule, Course, CourseStatus, Module
from lms.extensions import db
from lms.models import Department, Organization, Role, User
from lms.progress.models import Program
from lms.progress.programs import ProgramData, assign_program, create_program
from lms.progress.services import record_activity_event
from lms.seed import ensure_membership, get_or_create_user
from lms.timeutil import utcnow

QUALITY = [
    "Anna Becker", "Jonas Weber", "Sofia Romano", "Lukas Fischer", "Elena Marin", "Tobias Wagner",
    "Chiara Bianchi", "Felix Schulz", "Amira Nasser", "David Novak", "Ines Carvalho", "Mateo Ruiz",
    "Hanna Lindqvist", "Piotr Kowalski",
]  # fmt: skip
PRODUCTION = [
    "Jakob Hofmann", "Laura Conti", "Ahmed Karim", "Julia Schneider", "Marek Dvorak", "Nina Petrova",
    "Stefan Braun", "Yuki Tanaka", "Carlos Mendes", "Eva Horvat", "Oskar Nilsson", "Fatima Zahra",
    "Paul Richter", "Giulia Ferri", "Kevin O'Brien", "Mia Jovanovic",
]  # fmt: skip

PROGRAMS = [
    # name, purpose, department, course slugs, due days, validity months, description
    ("Digital Quality Retraining 2026", "retraining", "Quality",
     ["quality-management-with-statistics", "python-for-production-data"], 60, 12,
     "Statistical process control and data analysis in Python for the quality lab."),
    ("Industry 4.0 Upskilling", "upskilling", "Production",
     ["python-for-production-data", "warehouse-automation-basics"], 90, None,
     "Production data, sensors and automation for shop-floor teams."),
]  # fmt: skip


def _email(name: str) -> str:
    local = name.lower().replace("'", "").replace(" ", ".")
    return f"{local}@acme.demo"


def _complete_course(user: User, course: Course, rng: random.Random, fraction: float) -> None:
    """Work through ``fraction`` of the course's activities, through the progress services."""
    activities = db.session.scalars(
        select(Activity)
        .join(Module, Module.id == Activity.module_id)
        .where(Activity.course_id == course.id)
        .order_by(Module.position, Activity.position, Activity.id)
    ).all()
    todo = activities[: max(0, round(len(activities) * fraction))]
    for activity in todo:
        rule = activity.completion_rule
        if rule == CompletionRule.PASSED:
            mark = activity.pass_mark if activity.pass_mark is not None else 50.0
            record_activity_event(
                user, activity, "graded", grade=float(rng.randint(int(mark), 100))
            )
        elif rule == CompletionRule.SUBMITTED:
            record_activity_event(user, activity, "submitted")
        else:
            record_activity_event(user, activity, "viewed")


def seed_progress() -> None:
    """Acme's two programs with a few dozen employees: completed, in progress, not started, late."""
    acme = db.session.scalar(select(Organization).where(Organization.slug == "acme"))
    if acme is None:
        return
    existing = set(
        db.session.scalars(select(Program.name).where(Program.organization_id == acme.id))
    )
    hr = db.session.scalar(select(User).where(User.email == "hr@acme.demo"))
    rng = random.Random(2026)
    staff = _acme_staff(acme)
    now = utcnow()
    for name, purpose, dept_name, slugs, due_days, validity, description in PROGRAMS:
        if name in existing:
            continue
        courses = db.session.scalars(
            select(Course).where(Course.slug.in_(slugs), Course.status == CourseStatus.PUBLISHED)
        ).all()
        if not courses:
            continue
        order = {slug: i for i, slug in enumerate(slugs)}
        courses = sorted(courses, key=lambda c: order[c.slug])
        data = ProgramData(
            name=name, purpose=purpose, description=description,
            course_ids=[c.id for c in courses], due_mode="relative", due_days=due_days,
            validity_months=validity,
        )  # fmt: skip
        program = create_program(acme, data, hr or staff[dept_name][0])
        people = staff[dept_name]
        # Two cohorts: one assigned long ago (completed or overdue), one recently (under way).
        early, late = people[: len(people) // 2], people[len(people) // 2 :]
        assign_program(program, [u.id for u in early], hr, now - timedelta(days=due_days + 20))
        assign_program(program, [u.id for u in late], hr, now - timedelta(days=due_days // 3))
        _seed_cohort_progress(early, late, courses, rng)
    db.session.flush()


def _acme_staff(acme: Organization) -> dict[str, list[User]]:
    """Acme's Quality and Production employees (created once), with the named demo accounts."""
    depts = {
        d.name: d
        for d in db.session.scalars(select(Department).where(Department.organization_id == acme.id))
    }
    staff: dict[str, list[User]] = {"Quality": [], "Production": []}
    for dept_name, names in (("Quality", QUALITY), ("Production", PRODUCTION)):
        dept = depts.get(dept_name)
        if dept is None:
            dept = Department(organization_id=acme.id, name=dept_name)
            db.session.add(dept)
            db.session.flush()
        for name in names:
            user = get_or_create_user(_email(name), name)
            ensure_membership(user, acme, Role.LEARNER, dept)
            staff[dept_name].append(user)
    for email, dept_name in (
        ("employee2@acme.demo", "Quality"),
        ("employee@acme.demo", "Production"),
    ):
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            # Lena (Quality) joins the early cohort and is overdue; Marco (Production) the
            # recent one, with time left: the walkthrough shows both.
            if dept_name == "Quality":
                staff[dept_name].insert(0, user)
            else:
                staff[dept_name].append(user)
    return staff


def _seed_cohort_progress(early: list[User], late: list[User], courses, rng) -> None:
    """Two thirds of the early cohort completed, the rest overdue; the late one under way."""
    for i, user in enumerate(early):
        if user.email.startswith("employee"):
            continue  # keep the named demo accounts fresh for the walkthrough
        if i % 3 != 2:  # two thirds completed
            for course in courses:
                _complete_course(user, course, rng, 1.0)
        else:  # the rest overdue, some with partial work
            _complete_course(user, courses[0], rng, 0.5)
    for i, user in enumerate(late):
        if user.email.startswith("employee") or i % 3 == 0:
            continue  # not started
        _complete_course(user, courses[0], rng, 1.0 if i % 3 == 1 else 0.4)
