"""A large synthetic cluster, bulk-inserted, for load tests and ``bench/progress.py``.

N employees over four enterprises, each with departments, an HR manager and two programs of three
or four courses (twelve shared courses of ten activities). Each employee gets one or two programs
and a realistic history: about 20 activity-completion rows on average, course states, assignment
status (some overdue), so every dashboard has something to aggregate.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import insert, select

from lms.domain.models import Activity, Course, CoursePartner, Enrolment, Module
from lms.errors import DomainError
from lms.extensions import db
from lms.models import Department, Membership, Organization, User
from lms.progress import rules
from lms.progress.models import (
    ActivityCompletion,
    CourseCompletion,
    Program,
    ProgramAssignment,
    ProgramCourse,
)
from lms.seed import DEMO_PASSWORD
from lms.timeutil import utcnow

FIRST = [
    "Anna",
    "Ben",
    "Chen",
    "Dana",
    "Elif",
    "Farid",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Karin",
    "Liam",
    "Maya",
    "Nils",
    "Olga",
    "Pavel",
    "Rosa",
    "Sami",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Xenia",
    "Yusuf",
    "Zoe",
    "Aiko",
    "Bruno",
    "Carla",
    "Dmitri",
    "Ella",
    "Femi",
    "Gabriel",
    "Hana",
    "Ivan",
    "Jana",
    "Kofi",
    "Lena",
    "Marco",
    "Nadia",
    "Omar",
]
LAST = [
    "Novak",
    "Weber",
    "Rossi",
    "Kim",
    "Haddad",
    "Lind",
    "Olsen",
    "Vogel",
    "Raman",
    "Silva",
    "Costa",
    "Berg",
    "Nowak",
    "Horvat",
    "Jensen",
    "Dubois",
    "Moreau",
    "Kowalski",
    "Fischer",
    "Tanaka",
    "Ito",
    "Garcia",
    "Lopez",
    "Schmidt",
    "Muller",
    "Meyer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Klein",
    "Wolf",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Kruger",
    "Hartmann",
    "Lange",
    "Werner",
    "Krause",
]
DEPARTMENTS = ("Production", "Quality", "Logistics", "Maintenance")
ENTERPRISES = 4
COURSES = 12
ACTIVITIES_PER_COURSE = 10
BATCH = 5000


def bulk_insert(model, rows: list[dict]) -> None:
    """Core executemany INSERT (batched multi-row VALUES): no ORM work per row."""
    table = model.__table__
    for start in range(0, len(rows), BATCH):
        db.session.execute(table.insert(), rows[start : start + BATCH])


def bulk_insert_ids(model, rows: list[dict]) -> list[int]:
    """Insert ``rows`` and return their new ids, in order."""
    ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
        ids.extend(db.session.scalars(stmt, rows[start : start + BATCH]))
    return ids


def _chunks(items: Iterable, size: int):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass
class _Cluster:
    """What the employees are attached to: enterprises, departments, courses and programs."""

    now: datetime
    hashed: str  # the demo password's hash, shared by every synthetic account
    org_ids: list[int] = field(default_factory=list)
    depts_of: dict[int, list[int]] = field(default_factory=dict)
    course_ids: list[int] = field(default_factory=list)
    activities_of: dict[int, list[tuple[int, str]]] = field(default_factory=dict)  # id, rule
    programs_of: dict[int, list[tuple[int, list[int]]]] = field(default_factory=dict)


def seed_scale(learners: int, seed: int = 2026, now: datetime | None = None) -> dict[str, int]:
    """Create the synthetic cluster; returns counts of what was inserted. The caller commits."""
    rng = random.Random(seed)
    now = now or utcnow()
    run = db.session.scalar(
        select(Organization.id).where(Organization.slug.like("scale-%")).limit(1)
    )
    if run is not None:
        raise DomainError("The database already holds a scale cluster (organizations scale-*).")
    password_hash = User(email="x", name="x")
    password_hash.set_password(DEMO_PASSWORD)
    cluster = _Cluster(now=now, hashed=password_hash.password_hash)
    _seed_enterprises(cluster)
    activities = _seed_courses(cluster)
    _seed_programs(cluster, rng)
    stats = {"organizations": ENTERPRISES, "courses": COURSES, "activities": activities,
             "learners": 0, "assignments": 0, "enrolments": 0, "course_completions": 0,
             "activity_completions": 0}  # fmt: skip
    # Employees, in chunks so memory stays bounded for large N.
    for chunk in _chunks(range(learners), 2000):
        for key, count in _seed_employees(cluster, rng, chunk).items():
            stats[key] += count
        db.session.flush()
    return stats


def _seed_enterprises(cluster: _Cluster) -> None:
    """The enterprises and their departments."""
    now = cluster.now
    cluster.org_ids = bulk_insert_ids(
        Organization,
        [{"slug": f"scale-{i + 1}", "name": f"Scale Enterprise {i + 1}", "kind": "enterprise",
          "description": "Synthetic enterprise for load tests.", "created_at": now}
         for i in range(ENTERPRISES)],
    )  # fmt: skip
    dept_rows = [{"organization_id": o, "name": d} for o in cluster.org_ids for d in DEPARTMENTS]
    dept_ids = bulk_insert_ids(Department, dept_rows)
    cluster.depts_of = {o: dept_ids[i * len(DEPARTMENTS) : (i + 1) * len(DEPARTMENTS)]
                        for i, o in enumerate(cluster.org_ids)}  # fmt: skip


def _seed_courses(cluster: _Cluster) -> int:
    """Courses, one module each, and their activities (shared by all enterprises: cluster-wide).
    Returns the number of activities."""
    now = cluster.now
    course_ids = bulk_insert_ids(
        Course,
        [{"slug": f"scale-course-{i + 1}", "title": f"Scale course {i + 1}", "summary": "",
          "status": "published", "visibility": "cluster", "completion_mode": "all",
          "created_at": now, "updated_at": now, "content_version": 1, "level": "beginner",
          "estimated_hours": 4.0, "language": "en"} for i in range(COURSES)],
    )  # fmt: skip
    bulk_insert(CoursePartner, [{"course_id": c, "organization_id": cluster.org_ids[0],
                                 "role": "partner"} for c in course_ids])  # fmt: skip
    module_ids = bulk_insert_ids(
        Module,
        [
            {"course_id": c, "title": "Module 1", "summary": "", "position": 0} for c in course_ids
        ],  # fmt: skip
    )
    rules_cycle = ("viewed", "viewed", "submitted", "passed", "viewed")
    activity_rows = [
        {"type": "activity", "course_id": c, "module_id": m, "title": f"Activity {j + 1}",
         "position": j, "completion_rule": rules_cycle[j % len(rules_cycle)], "pass_mark": 60.0,
         "weight": 1.0, "required": True, "created_at": now, "updated_at": now}
        for c, m in zip(course_ids, module_ids, strict=True)
        for j in range(ACTIVITIES_PER_COURSE)
    ]  # fmt: skip
    activity_ids = bulk_insert_ids(Activity, activity_rows)
    per = ACTIVITIES_PER_COURSE
    cluster.course_ids = course_ids
    cluster.activities_of = {
        c: list(zip(activity_ids[i * per : (i + 1) * per],
                    [r["completion_rule"] for r in activity_rows[i * per : (i + 1) * per]],
                    strict=True))
        for i, c in enumerate(course_ids)
    }  # fmt: skip
    return len(activity_ids)


def _seed_programs(cluster: _Cluster, rng: random.Random) -> None:
    """An HR manager per enterprise, then its two programs of three and four random courses."""
    now, org_ids = cluster.now, cluster.org_ids
    hr_ids = bulk_insert_ids(
        User,
        [{"email": f"hr@scale-{i + 1}.demo", "name": f"HR Manager {i + 1}",
          "password_hash": cluster.hashed, "active": True, "is_site_admin": False,
          "created_at": now}
         for i in range(ENTERPRISES)],
    )  # fmt: skip
    bulk_insert(Membership, [{"user_id": h, "organization_id": o, "role": "hr", "created_at": now}
                       for h, o in zip(hr_ids, org_ids, strict=True)])  # fmt: skip
    program_rows, program_courses = [], []
    for i, o in enumerate(org_ids):
        for k in range(2):
            program_rows.append(
                {"organization_id": o, "name": f"Program {k + 1} of enterprise {i + 1}",
                 "purpose": ("upskilling", "retraining")[k], "description": "",
                 "completion_mode": "all", "due_mode": "relative", "due_days": 90,
                 "validity_months": 12 if k else None, "created_by_id": hr_ids[i],
                 "created_at": now - timedelta(days=200), "updated_at": now, "archived": False}
            )  # fmt: skip
            program_courses.append(rng.sample(cluster.course_ids, 3 + k))
    program_ids = bulk_insert_ids(Program, program_rows)
    bulk_insert(ProgramCourse, [{"program_id": p, "course_id": c, "position": j}
                          for p, cs in zip(program_ids, program_courses, strict=True)
                          for j, c in enumerate(cs)])  # fmt: skip
    cluster.programs_of = {o: list(zip(program_ids[2 * i : 2 * i + 2],
                                       program_courses[2 * i : 2 * i + 2], strict=True))
                           for i, o in enumerate(org_ids)}  # fmt: skip


@dataclass
class _Rows:
    """The rows one chunk of employees adds to each table."""

    members: list[dict] = field(default_factory=list)
    assignments: list[dict] = field(default_factory=list)
    enrolments: list[dict] = field(default_factory=list)
    course_states: list[dict] = field(default_factory=list)
    activity_states: list[dict] = field(default_factory=list)


def _seed_employees(cluster: _Cluster, rng: random.Random, chunk: list[int]) -> dict[str, int]:
    """One chunk of employees with their memberships, programs and learning history."""
    now = cluster.now
    user_rows = []
    for n in chunk:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        user_rows.append(
            {"email": f"{first}.{last}.{n}@scale.demo".lower(), "name": f"{first} {last}",
             "password_hash": cluster.hashed, "active": True, "is_site_admin": False,
             "created_at": now - timedelta(days=400)}
        )  # fmt: skip
    user_ids = bulk_insert_ids(User, user_rows)
    out = _Rows()
    for n, uid in zip(chunk, user_ids, strict=True):
        org = cluster.org_ids[n % ENTERPRISES]
        out.members.append({"user_id": uid, "organization_id": org, "role": "learner",
                            "department_id": rng.choice(cluster.depts_of[org]),
                            "created_at": now})  # fmt: skip
        programs = cluster.programs_of[org][: 1 + (rng.random() < 0.5)]
        seen_courses: dict[int, dict] = {}
        for program_id, courses in programs:
            out.assignments.append(
                _assignment(cluster, rng, uid, org, program_id, courses, seen_courses, out)
            )
    bulk_insert(Membership, out.members)
    bulk_insert(Enrolment, out.enrolments)
    bulk_insert(CourseCompletion, out.course_states)
    bulk_insert(ActivityCompletion, out.activity_states)
    bulk_insert(ProgramAssignment, out.assignments)
    return {"learners": len(user_ids), "assignments": len(out.assignments),
            "enrolments": len(out.enrolments), "course_completions": len(out.course_states),
            "activity_completions": len(out.activity_states)}  # fmt: skip


def _assignment(cluster: _Cluster, rng: random.Random, uid: int, org: int, program_id: int,
                courses: list[int], seen_courses: dict[int, dict], out: _Rows) -> dict:  # fmt: skip
    """One program assignment of an employee; a course not seen yet (in another of their
    programs) gets its enrolment and history in ``out``."""
    now = cluster.now
    assigned_at = now - timedelta(days=rng.randint(5, 180))
    due_at = assigned_at + timedelta(days=90)
    progress_values, done, last_seen = [], 0, None
    for course_id in courses:
        if course_id not in seen_courses:
            seen_courses[course_id] = _course_history(
                rng, uid, course_id, cluster.activities_of[course_id], assigned_at, now,
                out.activity_states,
            )  # fmt: skip
            out.enrolments.append({"user_id": uid, "course_id": course_id, "status": "active",
                                   "method": "program", "enrolled_by_id": None,
                                   "enrolled_at": assigned_at})  # fmt: skip
            out.course_states.append(seen_courses[course_id])
        cs = seen_courses[course_id]
        progress_values.append(cs["progress"])
        done += cs["state"] == "completed"
        if cs["last_activity_at"] and (not last_seen or cs["last_activity_at"] > last_seen):
            last_seen = cs["last_activity_at"]
    progress, complete = rules.program_progress(progress_values, done, "all", None)
    completed_at = None
    if complete:
        completed_at = max(seen_courses[c]["completed_at"] for c in courses)
    status = "completed" if complete else "in_progress" if progress > 0 else "assigned"
    return {"program_id": program_id, "organization_id": org, "user_id": uid,
            "assigned_by_id": None, "assigned_at": assigned_at, "due_at": due_at,
            "status": status, "progress": progress, "courses_completed": done,
            "last_activity_at": last_seen, "completed_at": completed_at, "expires_at": None,
            "cycle": 1}  # fmt: skip


def seed_scale_steps(seed: int = 2026, now: datetime | None = None) -> dict[str, int]:
    """Run the scale steps other features registered in ``app.extensions["lms.scale_steps"]``
    (callables taking ``seed`` and ``now`` and returning counts), after :func:`seed_scale`."""
    stats: dict[str, int] = {}
    for step in current_app.extensions.get("lms.scale_steps", []):
        stats.update(step(seed=seed, now=now))
    return stats


def _course_history(rng, user_id, course_id, activities, assigned_at, now, out) -> dict:
    """One learner's activity rows in a course (appended to ``out``) and their course state."""
    span = max(1, int((now - assigned_at).total_seconds() // 3600))
    roll = rng.random()
    if roll < 0.4:
        k = len(activities)
    elif roll < 0.8:
        k = rng.randint(1, len(activities) - 1)
    else:
        k = 0
    facts, last = [], None
    for position, (activity_id, rule) in enumerate(activities):
        if position >= k:
            facts.append(rules.ActivityFacts(True, rule))
            continue
        when = assigned_at + timedelta(hours=rng.randint(1, span))
        grade = float(rng.randint(60, 100)) if rule == "passed" else None
        out.append(
            {"user_id": user_id, "activity_id": activity_id, "course_id": course_id,
             "viewed_at": when, "submitted_at": when if rule in ("submitted", "passed") else None,
             "attempts": 1 if rule in ("submitted", "passed") else 0, "grade": grade,
             "completed": True, "failed": False, "completed_at": when, "override_reason": "",
             "updated_at": when}
        )  # fmt: skip
        facts.append(rules.ActivityFacts(True, rule, completed=True, touched=True, grade=grade))
        last = when if last is None or when > last else last
    outcome = rules.evaluate_course(rules.CourseRule(), facts)
    return {"user_id": user_id, "course_id": course_id, "state": outcome.state,
            "progress": outcome.progress, "grade": outcome.grade,
            "completed_at": last if outcome.state == "completed" else None,
            "last_activity_at": last, "updated_at": now}  # fmt: skip
