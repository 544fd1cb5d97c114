"""Course structure: modules and activities, their order, and restrict-access conditions.

Every change here is a content edit: it calls :func:`mark_course_edited`, which withdraws
earlier partner sign-offs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.domain.models import Activity, ActivityCondition, Course, Module
from lms.domain.services import mark_course_edited
from lms.errors import DomainError
from lms.extensions import db
from lms.models import User
from lms.plugins import ActivityType, activity_registry

CONDITION_KINDS = {"completed": "Completed", "grade": "Grade at least"}


# --- modules -----------------------------------------------------------------------------------
def _renumber(items: list[Any]) -> None:
    for index, item in enumerate(items):
        item.position = index


def add_module(course: Course, title: str, summary: str = "") -> Module:
    """Append a module to the course."""
    if not (title or "").strip():
        raise DomainError("Enter a module title.", "title")
    module = Module(title=title.strip()[:200], summary=summary or "", position=len(course.modules))
    course.modules.append(module)
    _renumber(course.modules)
    mark_course_edited(course)
    return module


def update_module(module: Module, title: str, summary: str = "") -> None:
    """Change a module's title and summary."""
    if not (title or "").strip():
        raise DomainError("Enter a module title.", "title")
    if module.title != title.strip() or module.summary != (summary or ""):
        module.title = title.strip()[:200]
        module.summary = summary or ""
        mark_course_edited(module.course)


def _drop_conditions_on(activity_ids: list[int]) -> None:
    """Remove conditions that name activities about to be deleted (SQLite may not cascade)."""
    if not activity_ids:
        return
    stmt = select(ActivityCondition).where(ActivityCondition.required_activity_id.in_(activity_ids))
    for cond in db.session.scalars(stmt).all():
        if cond.activity_id not in activity_ids:
            cond.activity.conditions.remove(cond)


def delete_module(module: Module) -> None:
    """Delete a module, its activities and conditions that named them."""
    course = module.course
    _drop_conditions_on([a.id for a in module.activities])
    course.modules.remove(module)  # delete-orphan cascade deletes it and its activities
    _renumber(course.modules)
    mark_course_edited(course)


def _move(items: list[Any], item: Any, direction: str) -> bool:
    if direction not in ("up", "down"):
        raise DomainError("Move up or down.")
    ordered = sorted(items, key=lambda i: (i.position, i.id or 0))
    index = ordered.index(item)
    target = index - 1 if direction == "up" else index + 1
    if target < 0 or target >= len(ordered):
        return False
    ordered[index], ordered[target] = ordered[target], ordered[index]
    _renumber(ordered)
    return True


def move_module(module: Module, direction: str) -> bool:
    """Swap with the neighbour above or below; positions stay 0..n-1 without gaps."""
    course = module.course
    moved = _move(course.modules, module, direction)
    if moved:
        mark_course_edited(course)
    return moved


# --- activities --------------------------------------------------------------------------------
@dataclass
class ActivityData:
    """The common fields every activity type shares."""

    title: str
    completion_rule: str = "viewed"
    pass_mark: float | None = None
    weight: float = 1.0
    required: bool = True
    available_from: datetime | None = None


def _check_activity(atype: ActivityType, data: ActivityData) -> None:
    if not (data.title or "").strip():
        raise DomainError("Enter a title.", "title")
    if data.completion_rule not in atype.completion_rules:
        raise DomainError(
            f"A {atype.label.lower()} completes by one of: {', '.join(atype.completion_rules)}.",
            "completion_rule",
        )
    if data.pass_mark is not None and not 0 <= data.pass_mark <= 100:
        raise DomainError("The pass mark is a percentage from 0 to 100.", "pass_mark")
    if data.weight is None or data.weight < 0:
        raise DomainError("The weight cannot be negative.", "weight")


def _keep_common(activity: Activity, data: ActivityData) -> None:
    """The common form owns the pass mark: a type that fills in its own default must not
    overwrite what the author typed there."""
    if data.pass_mark is not None:
        activity.pass_mark = data.pass_mark


def get_type(key: str) -> ActivityType:
    """Installed activity type of this key, or a domain error."""
    atype = activity_registry().get(key)
    if atype is None:
        raise DomainError(f"The activity type “{key}” is not installed on this site.")
    return atype


def add_activity(
    module: Module,
    type_key: str,
    data: ActivityData,
    author: User,
    type_data: dict[str, Any] | None = None,
) -> Activity:
    """A new activity of ``type_key`` at the end of ``module``; ``type_data`` is the type's form."""
    atype = get_type(type_key)
    _check_activity(atype, data)
    activity = atype.new_activity(
        course_id=module.course_id,
        title=data.title.strip()[:200],
        completion_rule=data.completion_rule,
        pass_mark=data.pass_mark,
        weight=data.weight,
        required=data.required,
        available_from=data.available_from,
        position=len(module.activities),
    )
    module.activities.append(activity)
    db.session.flush()
    if type_data is not None:
        atype.apply_form(activity, type_data, author)
        _keep_common(activity, data)
    mark_course_edited(module.course)
    return activity


def update_activity(
    activity: Activity, data: ActivityData, author: User, type_data: dict[str, Any] | None = None
) -> None:
    """Save an activity's shared settings and its type's own data."""
    atype = get_type(activity.type)
    _check_activity(atype, data)
    activity.title = data.title.strip()[:200]
    activity.completion_rule = data.completion_rule
    activity.pass_mark = data.pass_mark
    activity.weight = data.weight
    activity.required = data.required
    activity.available_from = data.available_from
    if type_data is not None:
        atype.apply_form(activity, type_data, author)
        _keep_common(activity, data)
    mark_course_edited(activity.module.course)


def delete_activity(activity: Activity) -> None:
    """Delete an activity and the conditions that named it."""
    module = activity.module
    _drop_conditions_on([activity.id])
    module.activities.remove(activity)  # delete-orphan cascade
    _renumber(module.activities)
    mark_course_edited(module.course)


def move_activity(activity: Activity, direction: str) -> bool:
    """Up or down within its module."""
    moved = _move(activity.module.activities, activity, direction)
    if moved:
        mark_course_edited(activity.module.course)
    return moved


def move_activity_to_module(activity: Activity, target: Module) -> None:
    """Move to the end of another module of the SAME course; across courses is refused."""
    if target.course_id != activity.course_id:
        raise DomainError("An activity can only move between modules of its own course.")
    source = activity.module
    if source.id == target.id:
        return
    # Load both collections first, then re-parent in one step: removing it from the source
    # collection alone would make it a delete-orphan at the next autoflush.
    end = len(target.activities)
    _ = list(source.activities)
    activity.position = end
    activity.module = target
    _renumber([a for a in sorted(source.activities, key=lambda a: a.position) if a is not activity])
    _renumber(sorted(target.activities, key=lambda a: a.position))
    mark_course_edited(source.course)


# --- restrict access ---------------------------------------------------------------------------
def _depends_on(start: Activity, target_id: int) -> bool:
    """Whether ``start`` (transitively) requires ``target_id``: guards against cycles."""
    seen: set[int] = set()
    stack = [start]
    while stack:
        current = stack.pop()
        if current.id in seen:
            continue
        seen.add(current.id)
        for cond in current.conditions:
            if cond.required_activity_id == target_id:
                return True
            stack.append(cond.required_activity)
    return False


def add_condition(
    activity: Activity, kind: str, required: Activity, min_grade: float | None = None
) -> ActivityCondition:
    """Make an activity open only after another is completed or graded."""
    if kind not in CONDITION_KINDS:
        raise DomainError("Choose “completed” or “grade at least”.", "kind")
    if required.course_id != activity.course_id:
        raise DomainError("A condition can only name an activity of the same course.")
    if required.id == activity.id:
        raise DomainError("An activity cannot depend on itself.")
    if kind == "grade":
        if min_grade is None or not 0 <= min_grade <= 100:
            raise DomainError("Enter the minimum grade as a percentage from 0 to 100.", "min_grade")
    else:
        min_grade = None
    if _depends_on(required, activity.id):
        raise DomainError(
            f"“{required.title}” already depends on “{activity.title}”; that would lock both."
        )
    cond = ActivityCondition(kind=kind, required_activity_id=required.id, min_grade=min_grade)
    activity.conditions.append(cond)
    db.session.flush()
    mark_course_edited(activity.module.course)
    return cond


def remove_condition(activity: Activity, condition_id: int) -> None:
    """Remove an access condition from an activity."""
    cond = next((c for c in activity.conditions if c.id == condition_id), None)
    if cond is None:
        raise DomainError("That condition does not exist.")
    activity.conditions.remove(cond)  # delete-orphan cascade
    mark_course_edited(activity.module.course)


def course_activities(course_id: int) -> list[Activity]:
    """Every activity of a course in module/position order, conditions loaded (two queries)."""
    return list(
        db.session.scalars(
            select(Activity)
            .join(Module, Module.id == Activity.module_id)
            .where(Activity.course_id == course_id)
            .options(selectinload(Activity.conditions))
            .order_by(Module.position, Activity.position, Activity.id)
        )
    )
