"""The gradebook of a course: learners × graded activities, categories, overrides and totals.

Set-based: a constant number of queries whatever the number of learners and activities (the
learners, the activities, the categories and items, the overrides, and one query per installed
activity type that keeps its own grades). Each type reports its grades through
``ActivityType.gradebook_entries``; types that do not are read from the grades they reported
to progress. Core never imports a plugin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import with_polymorphic

from lms.domain.models import Activity, Course, Enrolment, EnrolmentStatus, Module
from lms.extensions import db
from lms.gradebook import rules
from lms.gradebook.models import GradeCategory, GradeItem, GradeOverride
from lms.models import User
from lms.plugins import GradebookEntry, activity_registry
from lms.progress.models import ActivityCompletion


@dataclass(frozen=True)
class Column:
    """A graded activity as a gradebook column."""

    activity_id: int
    title: str
    type_label: str
    weight: float
    category_id: int | None


@dataclass(frozen=True)
class Cell:
    """One learner's grade in one activity."""

    score: float | None = None
    feedback: str = ""
    released: bool = True
    overridden: bool = False
    reason: str = ""


@dataclass
class Row:
    """One learner's grades, category grades and course total."""

    user_id: int
    name: str
    email: str
    cells: dict[int, Cell] = field(default_factory=dict)
    total: float | None = None
    total_overridden: bool = False
    total_reason: str = ""


@dataclass
class Gradebook:
    """The gradebook of a course for a set of learners."""

    course: Course
    columns: list[Column]
    categories: list[GradeCategory]
    rows: list[Row]
    category_grades: dict[int, dict[int, float | None]] = field(default_factory=dict)


def learners_statement(course_id: int) -> Select:
    """Active learners of the course, by name (for paging the gradebook)."""
    return (
        select(User.id)
        .join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.course_id == course_id, Enrolment.status == EnrolmentStatus.ACTIVE)
        .order_by(User.name, User.id)
    )


def graded_activities(course_id: int) -> list[Activity]:
    """The course's activities whose type produces grades, in course order. A type that is not
    installed keeps counting with the grades it reported to progress."""
    return list(db.session.scalars(_graded_statement(), {"course_id": course_id}))


def _graded_statement() -> Select:
    """The app's statement for its installed types, built once per set of them: building it (a
    polymorphic alias and its column expressions) cost more than running it, and grading a
    submission recomputes this."""
    registry = activity_registry()
    key = tuple((t.key, t.graded, t.model) for t in registry)
    kept = current_app.extensions.setdefault("lms.gradebook.graded_statements", {})
    statement = kept.get(key)
    if statement is None:
        ungraded = [t.key for t in registry if not t.graded]
        # Each type's own columns come in the same query (outer joins to the types' tables),
        # not one query per type or per activity: the types' hooks read them, e.g. whether a
        # quiz's results are released.
        models = [t.model for t in registry if t.graded and t.model is not Activity]
        poly = with_polymorphic(Activity, models) if models else Activity
        statement = (
            select(poly)
            .join(Module, Module.id == poly.module_id)
            .where(poly.course_id == bindparam("course_id"), poly.type.not_in(ungraded))
            .order_by(Module.position, poly.position)
        )
        kept[key] = statement
    return statement


def _entries(
    activities: list[Activity], user_ids: list[int] | None
) -> dict[tuple[int, int], GradebookEntry]:
    registry = activity_registry()
    by_type: dict[str, list[Activity]] = {}
    for a in activities:
        by_type.setdefault(a.type, []).append(a)
    entries: dict[tuple[int, int], GradebookEntry] = {}
    fallback: list[int] = []
    for key, acts in by_type.items():
        atype = registry.get(key)
        own = atype.gradebook_entries(acts, user_ids) if atype is not None else None
        if own is None:
            fallback.extend(a.id for a in acts)
        else:
            entries.update(own)
    if fallback and user_ids != []:
        stmt = select(
            ActivityCompletion.activity_id, ActivityCompletion.user_id, ActivityCompletion.grade
        ).where(ActivityCompletion.activity_id.in_(fallback), ActivityCompletion.grade.is_not(None))
        if user_ids is not None:
            stmt = stmt.where(ActivityCompletion.user_id.in_(user_ids))
        for aid, uid, grade in db.session.execute(stmt):
            entries[(aid, uid)] = GradebookEntry(grade)
    return entries


def build_gradebook(
    course: Course, user_ids: list[int] | None, learner_view: bool = False, names: bool = True
) -> Gradebook:
    """The gradebook rows of ``user_ids`` (in that order; ``None``: every active learner, by
    name). ``learner_view`` hides grades that are not released yet, exactly as the learner sees
    them (and as completion counts them). ``names=False`` (with ``user_ids``): the rows carry
    no names or emails, one query fewer (totals only)."""
    activities = graded_activities(course.id)
    columns, categories = _columns(course, activities)
    users, user_ids = _people(course, user_ids, names)
    # Past 500 people, entries and overrides are read for the whole course, not by an IN list.
    few = len(user_ids) <= 500
    entries = _entries(activities, list(users) if few else None)
    override_stmt = select(GradeOverride).where(GradeOverride.course_id == course.id)
    if few:
        override_stmt = override_stmt.where(GradeOverride.user_id.in_(list(users) or [0]))
    overrides = {(o.user_id, o.activity_id): o for o in db.session.scalars(override_stmt)}
    weights = {c.id: c.weight for c in categories}
    plan = [rules.Item(c.activity_id, c.weight, c.category_id) for c in columns]
    rows, per_category = [], {}
    for uid in user_ids:
        if uid not in users:
            continue
        row, grades = _row(users[uid], columns, entries, overrides, learner_view)
        per_category[uid] = rules.category_grades(plan, grades)
        total = overrides.get((uid, None))
        if total is not None:
            row.total, row.total_overridden, row.total_reason = total.grade, True, total.reason
        else:
            row.total = rules.course_total(plan, grades, weights)
        rows.append(row)
    return Gradebook(course, columns, categories, rows, per_category)


def _columns(course: Course, activities) -> tuple[list[Column], list[GradeCategory]]:
    """One column per graded activity (with its type's label, weight and category), and the
    course's categories in order."""
    registry = activity_registry()
    items = {
        i.activity_id: i.category_id
        for i in db.session.scalars(select(GradeItem).where(GradeItem.course_id == course.id))
    }
    categories = course_categories(course.id)
    columns = [
        Column(a.id, a.title, registry[a.type].label if a.type in registry else a.type, a.weight if a.weight is not None else 1.0,
               items.get(a.id))
        for a in activities
    ]  # fmt: skip
    return columns, categories


def course_categories(course_id: int) -> list[GradeCategory]:
    """The course's grade categories, in their order."""
    return list(
        db.session.scalars(
            select(GradeCategory)
            .where(GradeCategory.course_id == course_id)
            .order_by(GradeCategory.position, GradeCategory.id)
        )
    )


def _people(course: Course, user_ids: list[int] | None, names: bool) -> tuple[dict, list[int]]:
    """The gradebook's people by id, and their order (``None``: every active learner, by name).

    Without ``names`` (and with ``user_ids``) no query: the rows carry ids only."""
    people = select(User.id, User.name, User.email)
    if user_ids is None:
        people = people.where(User.id.in_(learners_statement(course.id).subquery().select()))
    else:
        people = people.where(User.id.in_(user_ids))
    if user_ids is not None and not names:
        users = {uid: SimpleNamespace(id=uid, name="", email="") for uid in user_ids}
    else:
        users = {u.id: u for u in db.session.execute(people)} if user_ids != [] else {}
    if user_ids is None:
        user_ids = sorted(users, key=lambda uid: (users[uid].name, uid))
    return users, user_ids


def _row(u, columns: list[Column], entries: dict, overrides: dict, learner_view: bool):
    """One person's row of cells, and the grades that count towards their totals."""
    row = Row(u.id, u.name, u.email)
    grades: dict[int, float | None] = {}
    for col in columns:
        o = overrides.get((u.id, col.activity_id))
        e = entries.get((col.activity_id, u.id))
        if o is not None:
            cell = Cell(o.grade, e.feedback if e else "", True, True, o.reason)
        elif e is not None:
            hidden = learner_view and not e.released
            cell = Cell(None if hidden else e.score, "" if hidden else e.feedback, e.released)
        else:
            cell = Cell()
        row.cells[col.activity_id] = cell
        counts = cell.released or cell.overridden
        grades[col.activity_id] = cell.score if counts else None
    return row, grades


def course_totals(course_id: int, user_ids: list[int] | None) -> dict[int, float | None]:
    """Released course totals per learner (``None``: every learner), for the completion
    engine's minimum course grade: the gradebook's total is the course grade."""
    course = db.session.get(Course, course_id)
    if course is None or user_ids == []:
        return {}
    book = build_gradebook(course, user_ids, learner_view=True, names=user_ids is None)
    return {row.user_id: row.total for row in book.rows}
