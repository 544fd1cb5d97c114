"""Completion rules as pure functions over plain data (no database, no Flask): unit-tested directly.

Activity rule (``Activity.completion_rule``):
  ``none``      the activity does not count for completion;
  ``viewed``    complete once opened;
  ``submitted`` complete once something was submitted;
  ``graded``    complete once a grade was given (whatever it is);
  ``passed``    complete once the best grade reaches the pass mark (default 50). Graded below the
                mark, the activity is *failed* until a better attempt passes it.

Course rule (``Course.completion_mode/completion_count/completion_min_grade``): all required
activities (``all``) or N of them (``n_of``), and optionally a minimum course grade: the average of
the grades obtained, weighted by ``Activity.weight``.

Course states:
  ``not_started`` nothing done yet;
  ``in_progress`` something done, requirement not (yet) met;
  ``completed``   requirement met (with date and grade);
  ``failed``      every counted activity has an outcome (completed, or graded below its pass
                  mark) and the requirement is not met: too few activities passed to reach N, or
                  the minimum course grade missed. It is not final: a better attempt (where the
                  activity allows one) recomputes it at once.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lms.domain.models import CompletionRule

DEFAULT_PASS_MARK = 50.0


@dataclass(frozen=True)
class ActivityOutcome:
    """Whether an activity counts as completed or as failed."""

    completed: bool
    failed: bool


def completion_date(
    recorded: datetime | None, acted_at: datetime | None, now: datetime
) -> datetime:
    """The date a completion carries: the one rule for activities and courses, live or recomputed.

    A date once recorded is kept (certificates and the ledger cite it); otherwise it is when the
    learner did what completed it; ``now`` when that is not known.
    """
    return recorded or acted_at or now


def evaluate_activity(
    rule: str,
    pass_mark: float | None,
    viewed: bool,
    submitted: bool,
    grade: float | None,
) -> ActivityOutcome:
    """Whether one activity is completed (or failed) under its ``rule``."""
    if rule == CompletionRule.VIEWED:
        return ActivityOutcome(viewed or submitted, False)
    if rule == CompletionRule.SUBMITTED:
        return ActivityOutcome(submitted, False)
    if rule == CompletionRule.GRADED:
        return ActivityOutcome(grade is not None, False)
    if rule == CompletionRule.PASSED:
        mark = DEFAULT_PASS_MARK if pass_mark is None else pass_mark
        if grade is None:
            return ActivityOutcome(False, False)
        return ActivityOutcome(grade >= mark, grade < mark)
    return ActivityOutcome(False, False)  # "none": never counts


@dataclass(frozen=True)
class ActivityFacts:
    """One activity as the course rule sees it, with the learner's state in it."""

    required: bool
    rule: str
    weight: float = 1.0
    completed: bool = False
    failed: bool = False
    touched: bool = False  # viewed, submitted or overridden
    grade: float | None = None


@dataclass(frozen=True)
class CourseRule:
    """How a course completes: all or n required activities, and a minimum grade."""

    mode: str = "all"  # "all" | "n_of"
    count: int | None = None
    min_grade: float | None = None


@dataclass(frozen=True)
class CourseOutcome:
    """Course state, progress, grade and activities done out of needed."""

    state: str
    progress: float  # 0..100
    grade: float | None
    done: int
    needed: int


def weighted_grade(items: Iterable[tuple[float, float | None]]) -> float | None:
    """Average of the grades present, weighted; ``None`` when nothing is graded."""
    pairs = [(w, g) for w, g in items if g is not None and w and w > 0]
    total = sum(w for w, _ in pairs)
    if not total:
        return None
    return round(sum(w * g for w, g in pairs) / total, 1)


_COMPUTE = object()


def evaluate_course(
    rule: CourseRule, activities: Sequence[ActivityFacts], course_grade: Any = _COMPUTE
) -> CourseOutcome:
    """The learner's course state from their activity facts (see the module docstring).

    ``course_grade`` is the course total when the gradebook computes it (categories, overrides);
    without it, the weighted mean of the activity grades."""
    counted = [a for a in activities if a.required and a.rule != CompletionRule.NONE]
    done = sum(1 for a in counted if a.completed)
    needed = len(counted)
    if rule.mode == "n_of" and rule.count:
        needed = min(rule.count, len(counted))
    if course_grade is _COMPUTE:
        grade = weighted_grade((a.weight, a.grade) for a in activities)
    else:
        grade = course_grade
    progress = round(100.0 * min(done, needed) / needed, 1) if needed else 0.0
    grade_ok = rule.min_grade is None or (grade is not None and grade >= rule.min_grade)
    if needed and done >= needed and grade_ok:
        state = "completed"
    else:
        all_settled = bool(counted) and all(a.completed or a.failed for a in counted)
        if needed and all_settled:
            state = "failed"
        elif any(a.touched or a.completed for a in activities):
            state = "in_progress"
        else:
            state = "not_started"
    if state == "completed":
        progress = 100.0
    return CourseOutcome(state, progress, grade, done, needed)


def program_progress(
    course_progress: Sequence[float], completed: int, mode: str, count: int | None
) -> tuple[float, bool]:
    """An assignment's progress (mean of the best ``needed`` courses) and whether it is complete.

    ``course_progress`` has one entry (0..100) per course of the program; ``completed`` counts the
    completed ones.
    """
    total = len(course_progress)
    needed = min(count, total) if mode == "n_of" and count else total
    if not needed:
        return 0.0, False
    best = sorted(course_progress, reverse=True)[:needed]
    complete = completed >= needed
    progress = 100.0 if complete else round(sum(min(p, 100.0) for p in best) / needed, 1)
    return progress, complete


def median(values: Sequence[float]) -> float | None:
    """The median of ``values`` (``None`` when empty)."""
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return None
    mid = n // 2
    return float(ordered[mid]) if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2.0


def add_months(year: int, month: int, day: int, months: int) -> tuple[int, int, int]:
    """(year, month, day) ``months`` later, the day clamped to the month's length."""
    index = year * 12 + (month - 1) + months
    y, m = divmod(index, 12)
    last = calendar.monthrange(y, m + 1)[1]
    return y, m + 1, min(day, last)
