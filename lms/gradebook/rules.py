"""Course totals as pure functions (Moodle's "weighted mean of grades", empty grades ignored).

Each category's grade is the mean of its activities' grades weighted by ``Activity.weight``;
the course total is the mean of the category grades weighted by the category weights, with
uncategorised activities counting on their own with their activity weight. Activities without a
grade (not graded yet, or not released) are left out rather than counted as zero, as Moodle does
by default, so a learner's total is never dragged down by work nobody has graded yet. Overrides
replace a cell (or the total) before anything is combined.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    """A graded activity as the total sees it: weight and category."""

    activity_id: int
    weight: float
    category_id: int | None


def weighted_mean(pairs: Iterable[tuple[float, float | None]]) -> float | None:
    """Mean of the present values weighted; ``None`` when nothing counts."""
    kept = [(w, v) for w, v in pairs if v is not None and w and w > 0]
    total = sum(w for w, _ in kept)
    return round(sum(w * v for w, v in kept) / total, 2) if total else None


def category_grades(
    items: Iterable[Item], grades: Mapping[int, float | None]
) -> dict[int, float | None]:
    """Grade per category id from the activity grades (activity id -> 0..100 or None)."""
    members: dict[int, list[tuple[float, float | None]]] = {}
    for item in items:
        if item.category_id is not None:
            members.setdefault(item.category_id, []).append(
                (item.weight, grades.get(item.activity_id))
            )
    return {cid: weighted_mean(pairs) for cid, pairs in members.items()}


def course_total(
    items: Iterable[Item],
    grades: Mapping[int, float | None],
    category_weights: Mapping[int, float],
) -> float | None:
    """The course total (see the module docstring)."""
    items = list(items)
    by_category = category_grades(items, grades)
    parts = [(category_weights.get(cid, 0.0), g) for cid, g in by_category.items()]
    parts += [(i.weight, grades.get(i.activity_id)) for i in items if i.category_id is None]
    total = weighted_mean(parts)
    # One decimal, like the grades the progress pages have always shown.
    return round(total, 1) if total is not None else None


RULE_TEXT = (
    "Course total = weighted mean of the category grades (category weights) and of the "
    "activities outside any category (activity weights); each category grade is the weighted "
    "mean of its activities. Activities without a grade yet are left out, not counted as 0."
)
