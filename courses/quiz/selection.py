"""Which questions an attempt gets, in which order: pure functions over question snapshots."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any


class SelectionError(ValueError):
    """The quiz cannot build an attempt from the bank (the message is for people)."""


def pick_questions(
    bank: Sequence[Mapping[str, Any]],
    *,
    selection: str,
    question_keys: Sequence[str] = (),
    category: str | None = None,
    count: int | None = None,
    shuffle: bool = False,
    rng: random.Random | None = None,
) -> list[dict[str, Any]]:
    """The questions of a new attempt, copied from ``bank`` snapshots.

    ``fixed`` keeps the author's order of ``question_keys`` (keys no longer in the bank are
    skipped); ``random`` draws ``count`` questions of ``category``. With ``shuffle`` the question
    order and the options of choice questions are shuffled; the caller stores the result in the
    attempt, so a reload shows the same order.
    """
    rng = rng or random.Random()
    by_key = {q["key"]: q for q in bank}
    if selection == "random":
        pool = sorted((q for q in bank if (q.get("category") or "") == (category or "")),
                      key=lambda q: q["key"])  # fmt: skip
        wanted = count or 0
        if wanted < 1:
            raise SelectionError("The quiz is set to draw random questions but the number is 0.")
        if len(pool) < wanted:
            raise SelectionError(
                f"The quiz draws {wanted} questions from the category “{category}”, but the "
                f"question bank has only {len(pool)} there."
            )
        chosen = rng.sample(pool, wanted)
    else:
        chosen = [by_key[k] for k in question_keys if k in by_key]
        if shuffle:
            rng.shuffle(chosen)
    if not chosen:
        raise SelectionError("This quiz has no questions yet.")
    questions = []
    for q in chosen:
        copy = {**q, "options": [dict(o) for o in q.get("options") or []]}
        if shuffle and copy["type"] in ("single", "multiple"):
            rng.shuffle(copy["options"])
        questions.append(copy)
    return questions
