"""Rubrics and grade arithmetic as pure functions over plain data (unit-tested directly).

A rubric is a list of criteria, each with levels worth points (Moodle's advanced grading):
``[{"title": str, "description": str, "levels": [{"title": str, "points": float}]}]``.
A graded rubric is one chosen level index per criterion; its score is the points earned out of
the sum of each criterion's best level, as a percentage.

Authors write a rubric as text, one criterion per line and its levels below it::

    Reproducible cleaning: every step is code that re-runs on the raw export
    - Steps done by hand | 0
    - Partly scripted | 2
    - Fully scripted | 4

The final grade of a peer-reviewed assignment follows one stated rule (:func:`final_score`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

MAX_CRITERIA = 20
MAX_LEVELS = 10
MAX_POINTS = 1000.0


class RubricError(ValueError):
    """The rubric cannot be used; the message says what to fix."""


def _points(raw: Any, where: str) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise RubricError(f"{where}: points must be a number, not “{raw}”.") from None
    if not math.isfinite(value) or value < 0:
        raise RubricError(f"{where}: points cannot be negative.")
    if value > MAX_POINTS:
        raise RubricError(f"{where}: points are at most {MAX_POINTS:g}.")
    return value


def clean_rubric(data: Any) -> list[dict[str, Any]]:
    """A validated copy of ``data`` (archive JSON or parsed text); ``RubricError`` if unusable."""
    if not isinstance(data, list):
        raise RubricError("A rubric is a list of criteria.")
    if len(data) > MAX_CRITERIA:
        raise RubricError(f"A rubric has at most {MAX_CRITERIA} criteria.")
    criteria = []
    for i, crit in enumerate(data, start=1):
        if not isinstance(crit, dict):
            raise RubricError(f"Criterion {i} must be an object with a title and levels.")
        title = str(crit.get("title") or "").strip()
        if not title:
            raise RubricError(f"Criterion {i} has no title.")
        levels_in = crit.get("levels")
        if not isinstance(levels_in, list) or not levels_in:
            raise RubricError(f"Criterion “{title}” has no levels: give at least one.")
        if len(levels_in) > MAX_LEVELS:
            raise RubricError(f"Criterion “{title}” has more than {MAX_LEVELS} levels.")
        levels = []
        for j, level in enumerate(levels_in, start=1):
            if not isinstance(level, dict):
                raise RubricError(f"Criterion “{title}”, level {j}: give a title and points.")
            ltitle = str(level.get("title") or "").strip()
            if not ltitle:
                raise RubricError(f"Criterion “{title}”, level {j} has no title.")
            levels.append(
                {"title": ltitle[:200], "points": _points(level.get("points"), f"“{ltitle}”")}
            )
        criteria.append(
            {
                "title": title[:200],
                "description": str(crit.get("description") or "").strip()[:1000],
                "levels": levels,
            }
        )
    return criteria


def parse_rubric_text(text: str) -> list[dict[str, Any]]:
    """Criteria from the authoring text format (see the module docstring)."""
    criteria: list[dict[str, Any]] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith(("-", "*")):
            if not criteria:
                raise RubricError(f"Line {number}: a level comes before any criterion.")
            body = line[1:].strip()
            if "|" not in body:
                raise RubricError(f"Line {number}: write a level as “- Title | points”.")
            title, _, points = body.rpartition("|")
            criteria[-1]["levels"].append({"title": title.strip(), "points": points.strip()})
        else:
            title, _, description = line.partition(":")
            criteria.append({"title": title.strip(), "description": description.strip(),
                             "levels": []})  # fmt: skip
    return clean_rubric(criteria)


def rubric_text(rubric: Sequence[dict[str, Any]]) -> str:
    """The authoring text of ``rubric`` (the inverse of :func:`parse_rubric_text`)."""
    lines = []
    for crit in rubric or []:
        head = crit["title"] + (f": {crit['description']}" if crit.get("description") else "")
        lines.append(head)
        lines.extend(f"- {lv['title']} | {lv['points']:g}" for lv in crit["levels"])
    return "\n".join(lines)


def max_points(rubric: Sequence[dict[str, Any]]) -> float:
    """The best total: each criterion's highest level."""
    return sum(max(lv["points"] for lv in crit["levels"]) for crit in rubric)


def rubric_score(rubric: Sequence[dict[str, Any]], levels: Sequence[Any]) -> tuple[float, float]:
    """(points earned, score 0..100) of one level index per criterion; ``RubricError`` if a
    criterion is left out or a level does not exist."""
    if len(levels) != len(rubric):
        raise RubricError("Choose a level for every criterion of the rubric.")
    earned = 0.0
    for crit, raw in zip(rubric, levels, strict=True):
        try:
            index = int(raw)
        except (TypeError, ValueError):
            raise RubricError(f"Choose a level for “{crit['title']}”.") from None
        if not 0 <= index < len(crit["levels"]):
            raise RubricError(f"Choose one of the levels of “{crit['title']}”.")
        earned += crit["levels"][index]["points"]
    best = max_points(rubric)
    return earned, round(100.0 * earned / best, 2) if best else 0.0


def score_percent(points: float, out_of: float) -> float:
    """A simple score as a percentage; ``RubricError`` outside 0..out_of."""
    if not math.isfinite(points) or points < 0 or points > out_of:
        raise RubricError(f"Give a score from 0 to {out_of:g}.")
    return round(100.0 * points / out_of, 2) if out_of else 0.0


def median(values: Sequence[float]) -> float | None:
    """The median of ``values`` (``None`` when empty)."""
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return None
    mid = n // 2
    return float(ordered[mid]) if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2.0


FINAL_RULE = (
    "Final grade = trainer's grade × (100 − peer weight)% + median of the peer reviews × peer "
    "weight%. Without peer reviews the trainer's grade counts alone."
)


def final_score(trainer: float, peer_scores: Sequence[float], peer_weight: float) -> float:
    """The stated rule (:data:`FINAL_RULE`): trainer and the median peer score, weighted."""
    peer = median(peer_scores)
    if peer is None or peer_weight <= 0:
        return round(trainer, 2)
    w = min(peer_weight, 100.0) / 100.0
    return round((1 - w) * trainer + w * peer, 2)
