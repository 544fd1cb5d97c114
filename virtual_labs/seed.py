"""Demo labs: two Python labs in "Python for Production Data" and a C lab in a statistics course.

The labs themselves (instructions, files, tests, skills) are in ``seed_content``. Idempotent: a
lab already present (same course and title) is left alone. Courses come from the courses
component's seed (order 10); when a course is missing its labs are skipped.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from lms.domain.models import Activity, Course, Module
from lms.extensions import db
from lms.skills.queries import skill_by_uri
from lms.skills.services import set_activity_outcomes
from virtual_labs.models import Lab, LabTest
from virtual_labs.seed_content import DEMO_LABS, MODULE_TITLE, PYTHON_COURSE, STATS_COURSES

__all__ = ["DEMO_LABS", "MODULE_TITLE", "PYTHON_COURSE", "STATS_COURSES", "seed_labs"]


def _find_course(slugs: tuple[str, ...]) -> Course | None:
    for slug in slugs:
        course = db.session.scalar(select(Course).where(Course.slug == slug))
        if course is not None:
            return course
    return None


def _labs_module(course: Course) -> Module:
    """The course's module for labs: an existing one named like labs, else a new last module."""
    existing = db.session.scalar(
        select(Module)
        .where(Module.course_id == course.id, func.lower(Module.title).contains("lab"))
        .order_by(Module.position)
        .limit(1)
    )
    if existing is not None:
        return existing
    position = (
        db.session.scalar(select(func.max(Module.position)).where(Module.course_id == course.id))
        or 0
    ) + 1
    module = Module(
        course_id=course.id,
        title=MODULE_TITLE,
        summary="Practise on real plant data: write the code, run it against the tests, submit.",
        position=position,
    )
    db.session.add(module)
    db.session.flush()
    return module


def _test_row(position: int, data: dict[str, Any]) -> LabTest:
    return LabTest(
        position=position,
        name=data["name"],
        kind=data.get("kind", "io"),
        stdin=data.get("stdin", ""),
        args=list(data.get("args", [])),
        expected=data.get("expected", ""),
        compare=data.get("compare", "trailing_ws"),
        tolerance=data.get("tolerance", 1e-6),
        code=data.get("code", ""),
        hidden=data.get("hidden", False),
        weight=data.get("weight", 1.0),
    )


def seed_labs() -> list[Lab]:
    """Add the demo labs to their courses (idempotent); returns the labs created now."""
    created: list[Lab] = []
    for spec in DEMO_LABS:
        course = _find_course(spec["courses"])
        if course is None:
            continue
        exists = db.session.scalar(
            select(Lab.id).where(Lab.course_id == course.id, Lab.title == spec["title"])
        )
        if exists is not None:
            continue
        module = _labs_module(course)
        position = db.session.scalar(
            select(func.count(Activity.id)).where(Activity.module_id == module.id)
        )
        lab = Lab(
            course_id=course.id,
            module_id=module.id,
            title=spec["title"],
            position=position,
            completion_rule="passed",
            pass_mark=spec["pass_mark"],
            weight=2.0,
            required=True,
            instructions=spec["instructions"],
            language=spec["language"],
            starter_files=spec["starter_files"],
            reference_files=spec["reference_files"],
        )
        lab.tests = [_test_row(i, t) for i, t in enumerate(spec["tests"])]
        db.session.add(lab)
        db.session.flush()
        outcomes = [(skill_by_uri(uri), level) for uri, level in spec.get("outcomes", ())]
        set_activity_outcomes(lab, [(skill, level) for skill, level in outcomes if skill])
        created.append(lab)
    return created
