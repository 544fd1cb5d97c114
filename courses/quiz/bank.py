"""The question bank of a course: validation, create/update/delete, snapshots and the archive.

``clean_question`` is the one validation of a question's data, shared by the authoring forms and
the course import, so a question that can be saved can always be exported and imported again.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from courses.quiz.models import QUESTION_TYPES, Quiz, QuizQuestion
from lms.domain.models import Course
from lms.domain.services import mark_course_edited
from lms.errors import Conflict
from lms.extensions import db

KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")
MAX_OPTIONS = 12
MAX_PROMPT = 20_000
MAX_OPTION_TEXT = 1_000
MAX_POINTS = 1_000


class QuestionError(ValueError):
    """Invalid question data; ``field`` names the offending field (for form errors)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _number(value: Any, field: str, label: str) -> float:
    if isinstance(value, bool) or value is None or value == "":
        raise QuestionError(f"Enter {label} as a number.", field)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise QuestionError(f"Enter {label} as a number.", field) from None
    if not math.isfinite(number):
        raise QuestionError(f"Enter {label} as a finite number.", field)
    return number


def _text(value: Any, field: str, label: str, limit: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise QuestionError(f"{label} must be text.", field)
    value = value.replace("\r\n", "\n").strip()
    if required and not value:
        raise QuestionError(f"Enter {label.lower()}.", field)
    if len(value) > limit:
        raise QuestionError(f"{label} must be at most {limit:,} characters.", field)
    return value


def _options(data: Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
    raw = data.get("options")
    if not isinstance(raw, list):
        raise QuestionError("A choice question needs a list of options.", "options")
    options = []
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping):
            raise QuestionError(f"Option {index} must be an object with a text.", "options")
        text = _text(item.get("text"), "options", f"Option {index}", MAX_OPTION_TEXT)
        if not text:
            raise QuestionError(f"Option {index} has no text.", "options")
        correct = item.get("correct", False)
        if not isinstance(correct, bool):
            raise QuestionError(f"Option {index}: 'correct' must be true or false.", "options")
        feedback = _text(item.get("feedback"), "options", f"Feedback of option {index}", 2000)
        options.append({"text": text, "correct": correct, "feedback": feedback})
    if len(options) < 2:
        raise QuestionError("Give at least two options.", "options")
    if len(options) > MAX_OPTIONS:
        raise QuestionError(f"Give at most {MAX_OPTIONS} options.", "options")
    if len({o["text"].casefold() for o in options}) != len(options):
        raise QuestionError("Two options have the same text.", "options")
    correct_count = sum(o["correct"] for o in options)
    if kind == "single" and correct_count != 1:
        raise QuestionError("Mark exactly one option as correct.", "options")
    if kind == "multiple" and correct_count < 1:
        raise QuestionError("Mark at least one option as correct.", "options")
    return options


def clean_question(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validated, normalised question data in the archive format; ``QuestionError`` if invalid."""
    if not isinstance(data, Mapping):
        raise QuestionError("A question must be an object.")
    key = data.get("key")
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise QuestionError(
            "The key must be 1–40 letters, digits, dots, dashes or underscores "
            "(starting with a letter or digit).",
            "key",
        )
    kind = data.get("type")
    if kind not in QUESTION_TYPES:
        raise QuestionError(
            f"Question {key}: unknown type {kind!r} (use one of {', '.join(QUESTION_TYPES)}).",
            "type",
        )
    points = _number(data.get("points", 1), "points", "the points")
    if not 0 < points <= MAX_POINTS:
        raise QuestionError(f"Points must be more than 0 and at most {MAX_POINTS}.", "points")
    clean: dict[str, Any] = {
        "key": key,
        "type": kind,
        "category": _text(data.get("category"), "category", "The category", 80),
        "prompt": _text(data.get("prompt"), "prompt", "The question", MAX_PROMPT, required=True),
        "points": points,
        "feedback": _text(data.get("feedback"), "feedback", "The feedback", MAX_PROMPT),
    }
    if kind in ("single", "multiple"):
        clean["options"] = _options(data, kind)
    elif kind == "true_false":
        answer = data.get("answer")
        if not isinstance(answer, bool):
            raise QuestionError("Choose whether the statement is true or false.", "answer")
        clean["answer"] = answer
    elif kind == "numeric":
        clean.update(_numeric_answer(data))
    else:
        clean.update(_short_answer(data))
    return clean


def _numeric_answer(data: Mapping[str, Any]) -> dict[str, Any]:
    """A numeric question's correct answer and (non-negative) tolerance."""
    answer = _number(data.get("answer"), "answer", "the correct answer")
    tolerance = data.get("tolerance")
    tolerance = 0.0 if tolerance in (None, "") else _number(tolerance, "tolerance", "the tolerance")
    if tolerance < 0:
        raise QuestionError("The tolerance cannot be negative.", "tolerance")
    return {"answer": answer, "tolerance": tolerance}


def _short_answer(data: Mapping[str, Any]) -> dict[str, Any]:
    """A short-answer question's accepted answers (trimmed, no repeats) and case rule."""
    accepted = data.get("accepted")
    if not isinstance(accepted, list) or not all(isinstance(a, str) for a in accepted):
        raise QuestionError("Give the accepted answers as a list of texts.", "accepted")
    accepted = [a.strip() for a in accepted if a.strip()]
    if not accepted:
        raise QuestionError("Give at least one accepted answer.", "accepted")
    if any(len(a) > 500 for a in accepted):
        raise QuestionError("Accepted answers must be at most 500 characters.", "accepted")
    case_sensitive = data.get("case_sensitive", False)
    if not isinstance(case_sensitive, bool):
        raise QuestionError("'case_sensitive' must be true or false.", "case_sensitive")
    return {"accepted": list(dict.fromkeys(accepted)), "case_sensitive": case_sensitive}


def question_data(question: QuizQuestion) -> dict[str, Any]:
    """A bank question in the archive format (only the fields its type uses)."""
    data: dict[str, Any] = {
        "key": question.key,
        "type": question.type,
        "category": question.category or "",
        "prompt": question.prompt or "",
        "points": question.points,
        "feedback": question.feedback or "",
    }
    if question.type in ("single", "multiple"):
        data["options"] = [
            {
                "text": o["text"],
                "correct": bool(o.get("correct")),
                "feedback": o.get("feedback", ""),
            }
            for o in question.options or []
        ]
    elif question.type == "true_false":
        data["answer"] = bool(question.answer)
    elif question.type == "numeric":
        data["answer"] = question.answer
        data["tolerance"] = question.tolerance or 0.0
    elif question.type == "short":
        data["accepted"] = list(question.accepted or [])
        data["case_sensitive"] = bool(question.case_sensitive)
    return data


def question_snapshot(question: QuizQuestion) -> dict[str, Any]:
    """What an attempt stores of a question: its data with option ids (original positions)."""
    data = question_data(question)
    if "options" in data:
        data["options"] = [{"id": i, **o} for i, o in enumerate(data["options"])]
    return data


def _apply(question: QuizQuestion, clean: Mapping[str, Any]) -> None:
    question.key = clean["key"]
    question.type = clean["type"]
    question.category = clean["category"]
    question.prompt = clean["prompt"]
    question.points = clean["points"]
    question.feedback = clean["feedback"]
    question.options = list(clean.get("options", []))
    answer = clean.get("answer")
    question.answer = float(answer) if answer is not None else None
    question.tolerance = clean.get("tolerance")
    question.accepted = list(clean.get("accepted", []))
    question.case_sensitive = bool(clean.get("case_sensitive", False))


def course_questions(course_id: int, category: str | None = None) -> list[QuizQuestion]:
    """Questions of a course's bank, optionally of one category."""
    stmt = select(QuizQuestion).where(QuizQuestion.course_id == course_id)
    if category is not None:
        stmt = stmt.where(QuizQuestion.category == category)
    return list(db.session.scalars(stmt.order_by(QuizQuestion.category, QuizQuestion.key)))


def course_categories(course_id: int) -> list[str]:
    """Categories used in a course's question bank."""
    return list(
        db.session.scalars(
            select(QuizQuestion.category)
            .where(QuizQuestion.course_id == course_id)
            .distinct()
            .order_by(QuizQuestion.category)
        )
    )


def key_taken(course_id: int, key: str, exclude_id: int | None = None) -> bool:
    """Whether another question of the course already uses this key."""
    stmt = select(QuizQuestion.id).where(
        QuizQuestion.course_id == course_id, QuizQuestion.key == key
    )
    if exclude_id is not None:
        stmt = stmt.where(QuizQuestion.id != exclude_id)
    return db.session.scalar(stmt) is not None


def next_key(course_id: int) -> str:
    """The first free ``qN`` key of the course."""
    taken = set(
        db.session.scalars(select(QuizQuestion.key).where(QuizQuestion.course_id == course_id))
    )
    n = len(taken) + 1
    while f"q{n}" in taken:
        n += 1
    return f"q{n}"


def create_question(
    course: Course, data: Mapping[str, Any], mark_edited: bool = True
) -> QuizQuestion:
    """Add a checked question to the course's bank, refusing a duplicate key."""
    clean = clean_question(data)
    if key_taken(course.id, clean["key"]):
        raise QuestionError(f"The key “{clean['key']}” is already used in this course.", "key")
    question = QuizQuestion(course_id=course.id)
    _apply(question, clean)
    db.session.add(question)
    if mark_edited:
        mark_course_edited(course)
    db.session.flush()
    return question


def add_to_quiz(quiz: Quiz, key: str) -> bool:
    """Append ``key`` to a fixed quiz's questions (the "write a question" link of the quiz
    form); ``False`` when the quiz draws at random, so a list of keys does not apply."""
    if quiz.selection != "fixed":
        return False
    if key not in (quiz.question_keys or []):
        quiz.question_keys = [*(quiz.question_keys or []), key]
        mark_course_edited(quiz.course)
        db.session.flush()
    return True


def quizzes_using(course_id: int, key: str) -> list[Quiz]:
    """Quizzes of the course whose fixed selection names ``key``."""
    quizzes = db.session.scalars(select(Quiz).where(Quiz.course_id == course_id))
    return [q for q in quizzes if q.selection == "fixed" and key in (q.question_keys or [])]


def update_question(question: QuizQuestion, data: Mapping[str, Any]) -> QuizQuestion:
    """Change a bank question. Past attempts keep their snapshot; quizzes follow a key change."""
    clean = clean_question(data)
    if clean["type"] != question.type:
        raise QuestionError("The type of a saved question cannot change; create a new one.", "type")
    old_key = question.key
    if clean["key"] != old_key:
        if key_taken(question.course_id, clean["key"], exclude_id=question.id):
            raise QuestionError(f"The key “{clean['key']}” is already used in this course.", "key")
        for quiz in quizzes_using(question.course_id, old_key):
            quiz.question_keys = [clean["key"] if k == old_key else k for k in quiz.question_keys]
    _apply(question, clean)
    mark_course_edited(question.course)
    db.session.flush()
    return question


def delete_question(question: QuizQuestion) -> None:
    """Delete a bank question unless a quiz of the course lists it."""
    using = quizzes_using(question.course_id, question.key)
    if using:
        titles = ", ".join(f"“{q.title}”" for q in using)
        raise Conflict(
            f"Question {question.key} is used by {titles}. Remove it from the quiz settings first."
        )
    course = question.course
    db.session.delete(question)
    mark_course_edited(course)
    db.session.flush()


# --- course archive -----------------------------------------------------------------------------
def export_bank(course: Course) -> dict[str, Any] | None:
    """Course's question bank for the course archive, or None if empty."""
    questions = course_questions(course.id)
    if not questions:
        return None
    return {"questions": [question_data(q) for q in questions]}


def import_bank(course: Course, data: Mapping[str, Any]) -> list[QuizQuestion]:
    """Create the bank from archive data; ``ValueError`` (with the question's key) if invalid."""
    if not isinstance(data, Mapping) or not isinstance(data.get("questions"), list):
        raise ValueError("quiz course data must be an object with a 'questions' list")
    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(data["questions"], start=1):
        try:
            clean = clean_question(item)
        except QuestionError as exc:
            where = item.get("key") if isinstance(item, Mapping) else None
            raise ValueError(f"question {where or f'#{index}'}: {exc.message}") from None
        if clean["key"] in seen:
            raise ValueError(f"question key {clean['key']!r} appears twice")
        seen.add(clean["key"])
        cleaned.append(clean)
    created = []
    for clean in cleaned:
        if key_taken(course.id, clean["key"]):
            raise ValueError(f"question key {clean['key']!r} already exists in the course")
        question = QuizQuestion(course_id=course.id)
        _apply(question, clean)
        db.session.add(question)
        created.append(question)
    db.session.flush()
    return created
