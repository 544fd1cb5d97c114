"""Assignment settings: one cleaning function for the authoring form and the course archive,
so both refuse the same bad values with the same messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from courses.assignment.models import Assignment, GradingMethod, Resubmission
from courses.assignment.rubric import RubricError, clean_rubric
from courses.assignment.services import ALLOWED_FILE_TYPES

MAX_INSTRUCTIONS = 50_000
MAX_FILE_BYTES = 50 * 1024 * 1024


def _date(value: Any, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=None)
    except ValueError:
        raise ValueError(f"{name} must be a date and time (ISO 8601)") from None


def _number(value: Any, name: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number") from None
    if not low <= number <= high:
        raise ValueError(f"{name} must be from {low:g} to {high:g}")
    return number


def clean_settings(content: dict[str, Any]) -> dict[str, Any]:
    """Validated settings; ``ValueError`` (with a message for the author) on bad values."""
    if not isinstance(content, dict):
        raise ValueError("assignment content must be an object")
    instructions = _instructions(content)
    types = _file_types(content)
    submit_text, submit_files = _hand_in(content, types)
    due_at, cutoff_at = _dates(content)
    resubmission, grading = _methods(content)
    rubric = _rubric(content, grading)
    return {
        "instructions": instructions.replace("\r\n", "\n"),
        "submit_text": submit_text,
        "submit_files": submit_files,
        "file_types": sorted(set(types)),
        "max_file_bytes": int(
            _number(
                content.get("max_file_bytes", 5 * 1024 * 1024),
                "max_file_bytes",
                1024,
                MAX_FILE_BYTES,
            )
        ),  # fmt: skip
        "max_files": int(_number(content.get("max_files", 3), "max_files", 1, 20)),
        "due_at": due_at,
        "cutoff_at": cutoff_at,
        "resubmission": str(resubmission),
        "grading": str(grading),
        "max_score": _number(content.get("max_score", 100.0), "max_score", 1, 1000),
        "rubric": rubric,
        "peer_review": bool(content.get("peer_review", False)),
        "peer_count": int(_number(content.get("peer_count", 2), "peer_count", 1, 10)),
        "peer_weight": _number(content.get("peer_weight", 20.0), "peer_weight", 0, 100),
    }


def _instructions(content: dict[str, Any]) -> str:
    """The instructions: Markdown text within the size limit."""
    instructions = content.get("instructions", "")
    if not isinstance(instructions, str) or len(instructions) > MAX_INSTRUCTIONS:
        raise ValueError(
            f"instructions must be Markdown text under {MAX_INSTRUCTIONS:,} characters"
        )
    return instructions


def _file_types(content: dict[str, Any]) -> list[str]:
    """The accepted file extensions (a list, or comma-separated text), each an allowed one."""
    types = content.get("file_types", [])
    if isinstance(types, str):
        types = [t for t in (p.strip().lower().lstrip(".") for p in types.split(",")) if t]
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise ValueError("file_types must be a list of file extensions")
    unknown = [t for t in types if t not in ALLOWED_FILE_TYPES]
    if unknown:
        raise ValueError(
            f"file type{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} cannot be accepted; "
            f"choose from {', '.join(sorted(ALLOWED_FILE_TYPES))}"
        )
    return types


def _hand_in(content: dict[str, Any], types: list[str]) -> tuple[bool, bool]:
    """Whether learners hand in a text and files: at least one, and files need a type."""
    submit_text = bool(content.get("submit_text", True))
    submit_files = bool(content.get("submit_files", False))
    if not submit_text and not submit_files:
        raise ValueError("learners must be able to hand in a text, files or both")
    if submit_files and not types:
        raise ValueError("name at least one accepted file type")
    return submit_text, submit_files


def _dates(content: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """The due date and the cut-off, which cannot come before it."""
    due_at = _date(content.get("due_at"), "due_at")
    cutoff_at = _date(content.get("cutoff_at"), "cutoff_at")
    if due_at and cutoff_at and cutoff_at < due_at:
        raise ValueError("the cut-off cannot be before the due date")
    return due_at, cutoff_at


def _methods(content: dict[str, Any]) -> tuple[str, str]:
    """The resubmission rule and the grading method, each one of its enum's values."""
    resubmission = content.get("resubmission", Resubmission.UNTIL_GRADED)
    if resubmission not in set(Resubmission):
        raise ValueError("resubmission must be until_graded, on_request or never")
    grading = content.get("grading", GradingMethod.SCORE)
    if grading not in set(GradingMethod):
        raise ValueError("grading must be score or rubric")
    return resubmission, grading


def _rubric(content: dict[str, Any], grading: str) -> list[dict[str, Any]]:
    """The cleaned rubric: required for rubric grading, and worth some points."""
    try:
        rubric = clean_rubric(content.get("rubric") or [])
    except RubricError as exc:
        raise ValueError(str(exc).rstrip(".")) from None
    if grading == GradingMethod.RUBRIC and not rubric:
        raise ValueError("a rubric needs at least one criterion with levels")
    if rubric and not any(max(lv["points"] for lv in c["levels"]) > 0 for c in rubric):
        raise ValueError("the rubric's best levels are all worth 0 points; give some points")
    return rubric


def apply_settings(assignment: Assignment, clean: dict[str, Any]) -> None:
    """Store cleaned settings on the assignment."""
    for key, value in clean.items():
        setattr(assignment, key, value)


def settings_content(assignment: Assignment) -> dict[str, Any]:
    """The archive form of the settings (graders are people, not content: not exported)."""
    return {
        "instructions": assignment.instructions or "",
        "submit_text": bool(assignment.submit_text),
        "submit_files": bool(assignment.submit_files),
        "file_types": list(assignment.file_types or []),
        "max_file_bytes": assignment.max_file_bytes,
        "max_files": assignment.max_files,
        "due_at": assignment.due_at.isoformat() if assignment.due_at else None,
        "cutoff_at": assignment.cutoff_at.isoformat() if assignment.cutoff_at else None,
        "resubmission": assignment.resubmission,
        "grading": assignment.grading,
        "max_score": assignment.max_score,
        "rubric": list(assignment.rubric or []),
        "peer_review": bool(assignment.peer_review),
        "peer_count": assignment.peer_count,
        "peer_weight": assignment.peer_weight,
    }
