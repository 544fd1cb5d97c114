"""Gradebook services: categories, which category an activity counts in, overrides.

They flush, never commit. A change that can move a course total recomputes completion (the
total can be the course's minimum grade), in the same transaction.
"""

from __future__ import annotations

import math

from sqlalchemy import select

from lms.domain.models import Activity, Course, Enrolment
from lms.errors import DomainError
from lms.extensions import db
from lms.gradebook.models import GradeCategory, GradeItem, GradeOverride
from lms.models import User
from lms.progress.recompute import recompute_course
from lms.progress.services import update_course_completion


def _weight(value: float | None) -> float:
    if value is None or not math.isfinite(value) or not 0 <= value <= 1000:
        raise DomainError("A weight is a number from 0 to 1000.", "weight")
    return float(value)


def add_category(course: Course, name: str, weight: float | None) -> GradeCategory:
    """A new grade category with its weight."""
    name = (name or "").strip()
    if not name:
        raise DomainError("Name the category.", "name")
    if len(name) > 100:
        raise DomainError("Keep the name under 100 characters.", "name")
    taken = db.session.scalars(
        select(GradeCategory.name).where(GradeCategory.course_id == course.id)
    )
    if name.lower() in {n.lower() for n in taken}:
        raise DomainError(f"There is already a category “{name}”.", "name")
    count = len(
        list(
            db.session.scalars(select(GradeCategory.id).where(GradeCategory.course_id == course.id))
        )
    )
    row = GradeCategory(course_id=course.id, name=name, weight=_weight(weight), position=count)
    db.session.add(row)
    db.session.flush()
    return row


def update_category(category: GradeCategory, name: str, weight: float | None) -> None:
    """Rename or reweigh a category; totals and completion follow."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise DomainError("Name the category (under 100 characters).", "name")
    category.name = name
    category.weight = _weight(weight)
    db.session.flush()
    _recompute(category.course_id)


def delete_category(category: GradeCategory) -> None:
    """Delete a category; its activities count on their own again."""
    course_id = category.course_id
    for item in db.session.scalars(select(GradeItem).where(GradeItem.category_id == category.id)):
        item.category_id = None
    db.session.delete(category)
    db.session.flush()
    _recompute(course_id)


def set_item_category(activity: Activity, category: GradeCategory | None) -> None:
    """Put a graded activity in a category (``None``: on its own in the total)."""
    if category is not None and category.course_id != activity.course_id:
        raise DomainError("Choose a category of this course.")
    item = db.session.get(GradeItem, activity.id)
    if item is None:
        item = GradeItem(activity_id=activity.id, course_id=activity.course_id)
        db.session.add(item)
    item.category_id = category.id if category is not None else None
    db.session.flush()
    _recompute(activity.course_id)


def override_grade(
    course: Course,
    learner: User,
    activity: Activity | None,
    grade: float | None,
    reason: str,
    by: User,
) -> GradeOverride | None:
    """Replace a learner's grade in an activity (or their course total) with a reason; a
    ``grade`` of ``None`` removes the override."""
    enrolled = db.session.scalar(
        select(Enrolment.id).where(
            Enrolment.user_id == learner.id, Enrolment.course_id == course.id
        )
    )
    if enrolled is None:
        raise DomainError("This person is not enrolled in the course.")
    if activity is not None and activity.course_id != course.id:
        raise DomainError("Choose an activity of this course.")
    existing = db.session.scalar(
        select(GradeOverride).where(
            GradeOverride.course_id == course.id,
            GradeOverride.user_id == learner.id,
            GradeOverride.activity_id.is_(None)
            if activity is None
            else GradeOverride.activity_id == activity.id,
        )
    )
    if grade is None:
        if existing is not None:
            db.session.delete(existing)
        db.session.flush()
        _refresh(learner.id, course.id)
        return None
    if not math.isfinite(grade) or not 0 <= grade <= 100:
        raise DomainError("A grade is a percentage from 0 to 100.", "grade")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason for the override: it is shown with the grade.", "reason")
    if len(reason) > 500:
        raise DomainError("Keep the reason under 500 characters.", "reason")
    row = existing or GradeOverride(
        course_id=course.id, user_id=learner.id, activity_id=activity.id if activity else None
    )
    row.grade, row.reason, row.by_id = float(grade), reason, by.id
    db.session.add(row)
    db.session.flush()
    _refresh(learner.id, course.id)
    return row


def _refresh(user_id: int, course_id: int) -> None:
    update_course_completion(user_id, course_id)


def _recompute(course_id: int) -> None:
    course = db.session.get(Course, course_id)
    if course is not None:
        recompute_course(course)
