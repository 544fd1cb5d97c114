"""Quiz grading: pure functions over plain data (question snapshots and responses), no database.

A question snapshot is a dict::

    {"key": "q1", "type": "single|multiple|true_false|numeric|short", "points": 1.0,
     "prompt": "<markdown>", "feedback": "<markdown>",
     "options": [{"id": 0, "text": "...", "correct": true, "feedback": "..."}],   # choice types
     "answer": 3.14, "tolerance": 0.01,                                          # numeric
     "answer": true,                                                              # true_false
     "accepted": ["..."], "case_sensitive": false}                               # short

Responses (``answers[key]``): an option id (single), a list of option ids (multiple), a bool
(true_false), the text typed (numeric and short); ``None`` or a missing key is unanswered.

Scoring rules (each question yields a fraction 0..1 of its points):

- single choice and true/false: 1 if the correct option is chosen, else 0;
- multiple choice, partial credit: with ``k`` correct options, each correct option selected adds
  ``1/k`` and each wrong option selected subtracts ``1/k``; the sum is floored at 0 (and capped
  at 1). Selecting everything therefore earns nothing unless every option is correct;
- numeric: 1 if ``|response - answer| <= tolerance``, the response read as a person writes a
  number (``3,14``, ``1 234.5``, ``2 %``, ``9.81 m/s²``: see ``courses.quiz.numbers``);
- short answer: 1 if the response equals one of the accepted answers after trimming and
  collapsing inner whitespace; case-insensitive unless ``case_sensitive``.

The attempt score is the points earned over the points available, as a percentage (0..100).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from courses.quiz.numbers import NumberProblem, number_problem, read_number

MAX_TEXT_RESPONSE = 500
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class QuestionResult:
    """The grade of one question: ``status`` is correct, partial, incorrect or unanswered."""

    key: str
    status: str
    fraction: float
    earned: float
    points: float
    feedback: list[str] = field(default_factory=list)  # Markdown snippets, most specific first

    def as_dict(self) -> dict[str, Any]:
        """Result as stored on the attempt."""
        return {
            "key": self.key,
            "status": self.status,
            "fraction": self.fraction,
            "earned": self.earned,
            "points": self.points,
            "feedback": list(self.feedback),
        }


@dataclass(frozen=True)
class AttemptResult:
    """Points earned out of total, the percentage and per-question results."""

    earned: float
    total: float
    score: float  # percentage 0..100
    results: list[QuestionResult]

    def passed(self, pass_mark: float) -> bool:
        """Whether the score reaches the pass mark."""
        return self.score >= pass_mark


def normalise_text(text: str, case_sensitive: bool = False) -> str:
    """Trimmed, inner whitespace collapsed, Unicode-normalised and (usually) case-folded."""
    s = _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()
    return s if case_sensitive else s.casefold()


def _option_ids(question: Mapping[str, Any]) -> set[int]:
    return {int(o["id"]) for o in question.get("options") or []}


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _status(fraction: float) -> str:
    if fraction >= 1 - 1e-9:
        return "correct"
    return "partial" if fraction > 1e-9 else "incorrect"


def _option_feedback(question: Mapping[str, Any], chosen: set[int]) -> list[str]:
    return [
        o["feedback"]
        for o in question.get("options") or []
        if int(o["id"]) in chosen and o.get("feedback")
    ]


def grade_single(question: Mapping[str, Any], response: Any) -> tuple[float | None, list[str]]:
    """Score and feedback of a single-choice answer."""
    choice = _as_int(response)
    if choice is None or choice not in _option_ids(question):
        return None, []
    correct = {int(o["id"]) for o in question["options"] if o.get("correct")}
    return (1.0 if choice in correct else 0.0), _option_feedback(question, {choice})


def grade_multiple(question: Mapping[str, Any], response: Any) -> tuple[float | None, list[str]]:
    """Score (partial credit) and feedback of a multiple-choice answer."""
    if response is None:
        return None, []
    raw = response if isinstance(response, list | tuple | set) else [response]
    valid = _option_ids(question)
    chosen = {i for i in (_as_int(r) for r in raw) if i is not None and i in valid}
    if not chosen:
        return None, []
    correct = {int(o["id"]) for o in question["options"] if o.get("correct")}
    k = len(correct)
    if k == 0:  # a degenerate question (the form refuses it): only "nothing" would be right
        return 0.0, _option_feedback(question, chosen)
    raw_score = (len(chosen & correct) - len(chosen - correct)) / k
    return min(1.0, max(0.0, raw_score)), _option_feedback(question, chosen)


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("true", "1", "yes"):
            return True
        if v in ("false", "0", "no"):
            return False
    return None


def grade_true_false(question: Mapping[str, Any], response: Any) -> tuple[float | None, list[str]]:
    """Score of a true/false answer."""
    choice = _as_bool(response)
    if choice is None:
        return None, []
    return (1.0 if choice == bool(question.get("answer")) else 0.0), []


def grade_numeric(question: Mapping[str, Any], response: Any) -> tuple[float | None, list[str]]:
    """Score of a numeric answer within the question's tolerance."""
    if response is None or (isinstance(response, str) and not response.strip()):
        return None, []
    try:
        reading = read_number(response)
    except NumberProblem:
        return 0.0, ["Your answer is not a number."]
    answer = float(question["answer"])
    tolerance = abs(float(question.get("tolerance") or 0.0))
    # A hair of slack so that 0.1 + 0.2 style rounding never fails an exact answer.
    slack = 1e-9 * max(1.0, abs(answer))
    right = any(abs(v - answer) <= tolerance + slack for v in reading.candidates())
    return (1.0 if right else 0.0), []


def grade_short(question: Mapping[str, Any], response: Any) -> tuple[float | None, list[str]]:
    """Score and feedback of a short text answer against the accepted answers."""
    if response is None:
        return None, []
    text = str(response)[:MAX_TEXT_RESPONSE]
    case_sensitive = bool(question.get("case_sensitive"))
    given = normalise_text(text, case_sensitive)
    if not given:
        return None, []
    accepted = {normalise_text(str(a), case_sensitive) for a in question.get("accepted") or []}
    return (1.0 if given in accepted else 0.0), []


GRADERS = {
    "single": grade_single,
    "multiple": grade_multiple,
    "true_false": grade_true_false,
    "numeric": grade_numeric,
    "short": grade_short,
}


def grade_question(question: Mapping[str, Any], response: Any) -> QuestionResult:
    """Grade one response against one question snapshot."""
    grader = GRADERS.get(question.get("type", ""))
    if grader is None:
        raise ValueError(f"unknown question type {question.get('type')!r}")
    points = float(question.get("points") or 0.0)
    fraction, feedback = grader(question, response)
    general = [question["feedback"]] if question.get("feedback") else []
    if fraction is None:
        return QuestionResult(question["key"], "unanswered", 0.0, 0.0, points, general)
    fraction = round(fraction, 6)
    earned = round(points * fraction, 4)
    return QuestionResult(
        question["key"], _status(fraction), fraction, earned, points, feedback + general
    )


def grade_attempt(
    questions: Sequence[Mapping[str, Any]], answers: Mapping[str, Any]
) -> AttemptResult:
    """Grade every question of an attempt; the score is earned / available points in percent."""
    results = [grade_question(q, answers.get(q["key"])) for q in questions]
    total = round(sum(r.points for r in results), 4)
    earned = round(sum(r.earned for r in results), 4)
    score = round(100.0 * earned / total, 2) if total > 0 else 0.0
    return AttemptResult(earned, total, score, results)


def parse_responses(
    questions: Sequence[Mapping[str, Any]], form: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """Answers from submitted form values (``form[name]`` is the list of values of ``name``).

    Fields are named ``q-<key>``; unknown option ids and overlong texts are dropped, so what is
    stored is always well formed whatever a client posts.
    """
    answers: dict[str, Any] = {}
    for q in questions:
        values = [v for v in form.get(f"q-{q['key']}", []) if isinstance(v, str)]
        kind = q["type"]
        if kind == "multiple":
            valid = _option_ids(q)
            ids = sorted({i for i in map(_as_int, values) if i is not None and i in valid})
            answers[q["key"]] = ids or None
        elif kind == "single":
            choice = _as_int(values[0]) if values else None
            answers[q["key"]] = choice if choice in _option_ids(q) else None
        elif kind == "true_false":
            answers[q["key"]] = _as_bool(values[0]) if values else None
        else:
            text = values[0][:MAX_TEXT_RESPONSE].strip() if values else ""
            answers[q["key"]] = text or None
    return answers


def unreadable_answers(
    questions: Sequence[Mapping[str, Any]], answers: Mapping[str, Any]
) -> dict[str, str]:
    """Numeric answers that cannot be read as a number, by question key, with the reason."""
    problems = {}
    for q in questions:
        if q["type"] == "numeric":
            message = number_problem(answers.get(q["key"]))
            if message:
                problems[q["key"]] = message
    return problems


def correct_answer_text(question: Mapping[str, Any]) -> str:
    """The right answer in words, for the feedback shown after grading."""
    kind = question["type"]
    if kind in ("single", "multiple"):
        return "; ".join(o["text"] for o in question.get("options") or [] if o.get("correct"))
    if kind == "true_false":
        return "True" if question.get("answer") else "False"
    if kind == "numeric":
        tolerance = float(question.get("tolerance") or 0)
        answer = f"{float(question['answer']):g}"
        return f"{answer} (± {tolerance:g})" if tolerance else answer
    accepted = question.get("accepted") or []
    return " or ".join(f"“{a}”" for a in accepted)


def response_text(question: Mapping[str, Any], response: Any) -> str:
    """A learner's response in words, for result pages ("—" when unanswered)."""
    if response is None or response == [] or response == "":
        return "—"
    kind = question["type"]
    if kind in ("single", "multiple"):
        ids = response if isinstance(response, list) else [response]
        chosen = {_as_int(i) for i in ids}
        texts = [o["text"] for o in question.get("options") or [] if int(o["id"]) in chosen]
        return "; ".join(texts) or "—"
    if kind == "true_false":
        value = _as_bool(response)
        return "—" if value is None else ("True" if value else "False")
    return str(response)


def review_rows(
    questions: Sequence[Mapping[str, Any]],
    answers: Mapping[str, Any] | None,
    results: Sequence[Mapping[str, Any]] | None,
) -> list[dict[str, Any]]:
    """One row per question of a finished attempt: the question, its result, the learner's
    response and the correct answer, as text (the result page's table)."""
    by_key = {r["key"]: r for r in results or []}
    return [
        {
            "question": q,
            "result": by_key.get(q["key"], {}),
            "response": response_text(q, (answers or {}).get(q["key"])),
            "correct": correct_answer_text(q),
        }
        for q in questions
    ]
