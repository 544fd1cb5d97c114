"""Restrict access (Moodle's): whether a learner may open an activity yet, and why not.

Pure functions over plain data, so they are unit-tested directly and shared by the course pages,
the activity page and any report that shows locks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from lms.domain.models import ConditionKind


class CompletionState(Protocol):
    """What access rules need from a completion row: done and grade."""

    completed: bool
    grade: float | None


@dataclass(frozen=True)
class Condition:
    """One restriction: ``kind`` "completed" or "grade" (``min_grade`` 0..100) on another activity."""

    kind: str
    required_activity_id: int
    min_grade: float | None = None


def lock_reasons(
    available_from: datetime | None,
    conditions: Iterable[Condition],
    states: Mapping[int, CompletionState],
    titles: Mapping[int, str],
    now: datetime,
) -> list[str]:
    """Why the activity is still locked for a learner (empty list: it is open).

    ``states`` are the learner's completion rows by activity id (missing: not started),
    ``titles`` name the required activities for the messages.
    """
    reasons: list[str] = []
    if available_from is not None and now < available_from:
        reasons.append(f"Opens on {available_from:%d %b %Y, %H:%M} UTC.")
    for cond in conditions:
        state = states.get(cond.required_activity_id)
        title = titles.get(cond.required_activity_id, "another activity")
        if cond.kind == ConditionKind.COMPLETED:
            if state is None or not state.completed:
                reasons.append(f"Complete “{title}” first.")
        elif cond.kind == ConditionKind.GRADE:
            needed = cond.min_grade if cond.min_grade is not None else 0.0
            grade = state.grade if state is not None else None
            if grade is None or grade < needed:
                reasons.append(f"Reach a grade of at least {needed:g}% in “{title}”.")
        else:
            reasons.append("An unknown access condition applies.")
    return reasons


def course_locks(
    activities: Iterable[Any], states: Mapping[int, Any], now: datetime
) -> dict[int, list[str]]:
    """Lock reasons for every locked activity of a course, by activity id.

    ``activities`` are Activity rows with their ``conditions`` loaded; nothing else is queried.
    """
    activities = list(activities)
    titles = {a.id: a.title for a in activities}
    locks: dict[int, list[str]] = {}
    for activity in activities:
        conditions = [
            Condition(c.kind, c.required_activity_id, c.min_grade) for c in activity.conditions
        ]
        reasons = lock_reasons(activity.available_from, conditions, states, titles, now)
        if reasons:
            locks[activity.id] = reasons
    return locks
