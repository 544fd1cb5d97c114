"""Quiz settings: validation shared by the authoring form and the course import, and the
archive format of a quiz activity."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select

from courses.quiz.models import FEEDBACK_MODES, Quiz, QuizQuestion
from lms.extensions import db

MAX_TIME_LIMIT = 24 * 60  # minutes
MAX_ATTEMPTS = 100


def _optional_int(value: Any, name: str, low: int, high: int) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise ValueError(f"'{name}' must be a whole number or null")
    value = int(value)
    if not low <= value <= high:
        raise ValueError(f"'{name}' must be between {low} and {high}")
    return value


def clean_settings(content: Mapping[str, Any]) -> dict[str, Any]:
    """Validated quiz settings from archive-format ``content``; ``ValueError`` if invalid."""
    if not isinstance(content, Mapping):
        raise ValueError("quiz content must be an object")
    clean: dict[str, Any] = _selection(content)
    clean["pass_mark"] = _pass_mark(content.get("pass_mark"))
    clean["attempts_allowed"] = _optional_int(
        content.get("attempts_allowed"), "attempts_allowed", 1, MAX_ATTEMPTS
    )
    clean["time_limit_minutes"] = _optional_int(
        content.get("time_limit_minutes"), "time_limit_minutes", 1, MAX_TIME_LIMIT
    )
    shuffle = content.get("shuffle", False)
    if not isinstance(shuffle, bool):
        raise ValueError("'shuffle' must be true or false")
    clean["shuffle"] = shuffle
    mode = content.get("feedback_mode", "immediate")
    if mode not in FEEDBACK_MODES:
        raise ValueError(f"'feedback_mode' must be one of {', '.join(FEEDBACK_MODES)}")
    clean["feedback_mode"] = mode
    clean["close_at"] = _close_at(content.get("close_at"))
    return clean


def _selection(content: Mapping[str, Any]) -> dict[str, Any]:
    """How the questions are chosen: drawn at random from a category, or a fixed list of keys."""
    if "random" in content and content["random"] is not None:
        rnd = content["random"]
        if not isinstance(rnd, Mapping):
            raise ValueError("'random' must be an object with 'category' and 'count'")
        category = rnd.get("category", "")
        if not isinstance(category, str):
            raise ValueError("'random.category' must be text")
        count = _optional_int(rnd.get("count"), "random.count", 1, 500)
        if count is None:
            raise ValueError("'random.count' is required")
        return dict(selection="random", question_keys=[], random_category=category.strip(),
                    random_count=count)  # fmt: skip
    keys = content.get("question_keys", [])
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ValueError("'question_keys' must be a list of question keys")
    if len(set(keys)) != len(keys):
        raise ValueError("'question_keys' lists a question twice")
    return dict(selection="fixed", question_keys=list(keys), random_category=None,
                random_count=None)  # fmt: skip


def _pass_mark(pass_mark: Any) -> float | None:
    """The pass mark: a number from 0 to 100, or None (no pass mark)."""
    if pass_mark is None:
        return None
    if isinstance(pass_mark, bool) or not isinstance(pass_mark, int | float):
        raise ValueError("'pass_mark' must be a number from 0 to 100")
    if not 0 <= pass_mark <= 100:
        raise ValueError("'pass_mark' must be a number from 0 to 100")
    return float(pass_mark)


def _close_at(close_at: Any) -> datetime | None:
    """When the quiz closes: an ISO 8601 date and time (text or datetime), or None."""
    if isinstance(close_at, str) and close_at:
        try:
            return datetime.fromisoformat(close_at).replace(tzinfo=None)
        except ValueError:
            raise ValueError("'close_at' must be a date and time (ISO 8601) or null") from None
    if not isinstance(close_at, datetime | None) or close_at == "":
        raise ValueError("'close_at' must be a date and time (ISO 8601) or null")
    return close_at


def check_against_bank(course_id: int, clean: Mapping[str, Any]) -> None:
    """``ValueError`` if the settings name questions or a category the course's bank lacks."""
    if clean["selection"] == "fixed":
        keys = set(
            db.session.scalars(
                select(QuizQuestion.key).where(
                    QuizQuestion.course_id == course_id,
                    QuizQuestion.key.in_(clean["question_keys"] or [""]),
                )
            )
        )
        missing = [k for k in clean["question_keys"] if k not in keys]
        if missing:
            raise ValueError(f"unknown question key(s): {', '.join(missing)}")
        return
    available = len(
        db.session.scalars(
            select(QuizQuestion.id).where(
                QuizQuestion.course_id == course_id,
                QuizQuestion.category == clean["random_category"],
            )
        ).all()
    )
    if available < clean["random_count"]:
        raise ValueError(
            f"the category “{clean['random_category']}” has {available} question(s), "
            f"fewer than the {clean['random_count']} to draw"
        )


SETTINGS = ("selection", "question_keys", "random_category", "random_count", "attempts_allowed",
            "time_limit_minutes", "shuffle", "feedback_mode", "close_at")  # fmt: skip


def apply_settings(quiz: Quiz, clean: Mapping[str, Any], pass_mark: bool = True) -> None:
    """Store cleaned settings; ``pass_mark=False`` leaves the activity's pass mark alone (the
    generic activity form owns it)."""
    for name in SETTINGS:
        setattr(quiz, name, clean[name])
    if pass_mark:
        quiz.pass_mark = clean["pass_mark"]


def settings_content(quiz: Quiz) -> dict[str, Any]:
    """The quiz activity's archive content."""
    content: dict[str, Any] = {}
    if quiz.selection == "random":
        content["random"] = {"category": quiz.random_category or "", "count": quiz.random_count}
    else:
        content["question_keys"] = list(quiz.question_keys or [])
    content.update(
        pass_mark=quiz.pass_mark,
        attempts_allowed=quiz.attempts_allowed,
        time_limit_minutes=quiz.time_limit_minutes,
        shuffle=bool(quiz.shuffle),
        feedback_mode=quiz.feedback_mode or "immediate",
    )
    if quiz.close_at is not None:  # only when set, so older archives compare equal
        content["close_at"] = quiz.close_at.isoformat()
    return content
