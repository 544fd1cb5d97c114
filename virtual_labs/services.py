"""Lab services: submissions and their database queue, results, validation and the archive.

Like every service they flush and never commit: the view, the CLI command or the task commits.
The queue is the ``lab_submissions`` table itself, claimed with atomic conditional UPDATEs so it
behaves the same on SQLite and PostgreSQL and survives restarts.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, case, func, select

from lms.domain.models import Enrolment, EnrolmentStatus
from lms.errors import DomainError
from lms.extensions import db
from lms.models import User
from lms.permissions import can
from lms.progress.access import ENROL_FIRST, activity_access
from lms.timeutil import utcnow
from virtual_labs.grading import TestSpec
from virtual_labs.languages import LANGUAGES
from virtual_labs.models import (
    PENDING_STATUSES,
    Lab,
    LabSubmission,
    SubmissionKind,
    SubmissionStatus,
)
from virtual_labs.sandbox import Limits

FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
MAX_FILES = 10
DEFAULTS = {
    "LAB_RATE_PER_MINUTE": 10,  # runs + submissions per learner per minute
    "LAB_MAX_IN_FLIGHT": 1,  # queued or running submissions per learner
    "LAB_MAX_SOURCE_KB": 64,  # per file
    "LAB_HEARTBEAT_SECONDS": 5.0,
    "LAB_STALE_SECONDS": 60.0,  # a running submission without heartbeat this long is requeued
    "LAB_MAX_ATTEMPTS": 3,
    # The sandbox limits a new lab starts with (the author may change them per lab).
    "LAB_DEFAULT_CPU_S": 2.0,
    "LAB_DEFAULT_WALL_S": 5.0,
    "LAB_DEFAULT_MEMORY_MB": 256,
    "LAB_DEFAULT_PROCS": 16,
    "LAB_DEFAULT_OUTPUT_KB": 64,
}


class RateLimited(DomainError):
    """Refusal of a submission sent too soon after the last one (429)."""

    status = 429


class LabUnavailable(DomainError):
    """Refusal when the sandbox or queue cannot take the run (503)."""

    status = 503


class NotAllowedToSubmit(DomainError):
    """Refusal of a submission by someone neither enrolled nor an author (403)."""

    status = 403


def setting(name: str) -> Any:
    """Lab setting from the app config, else its default."""
    return current_app.config.get(name, DEFAULTS[name])


# --- files and limits ---------------------------------------------------------------------------
def language_entry(key: str):
    """The declarative language entry for ``key`` (``KeyError`` when unknown)."""
    return LANGUAGES[key]


def default_file_name(language: str) -> str:
    """Main source file name of a language, e.g. main.py."""
    try:
        return language_entry(language).source_file
    except KeyError:
        return "main.txt"


def editable_files(lab: Lab) -> dict[str, str]:
    """The files a learner edits: the starter files, or one empty main file."""
    return dict(lab.starter_files) if lab.starter_files else {default_file_name(lab.language): ""}


def clean_files(files: dict[str, str], what: str = "files") -> dict[str, str]:
    """Check file names and sizes; ``ValueError`` with a message for the author or learner."""
    if not isinstance(files, dict):
        raise ValueError(f"The {what} must be a mapping of file name to content.")
    if len(files) > MAX_FILES:
        raise ValueError(f"Too many {what}: at most {MAX_FILES} files.")
    limit = int(setting("LAB_MAX_SOURCE_KB")) * 1024
    out: dict[str, str] = {}
    for name, content in files.items():
        if not isinstance(name, str) or not FILE_NAME.match(name) or ".." in name:
            raise ValueError(
                f"“{name}” is not a valid file name: use letters, digits, dots, dashes and "
                "underscores, without folders."
            )
        if not isinstance(content, str):
            raise ValueError(f"The content of {name} must be text.")
        content = content.replace("\r\n", "\n")
        if len(content.encode()) > limit:
            raise ValueError(f"{name} is larger than {limit // 1024} KB.")
        out[name] = content
    return out


def lab_limits(lab: Lab):
    """Sandbox limits of a lab."""
    return Limits(
        cpu_s=float(lab.cpu_s),
        wall_s=float(lab.wall_s),
        memory_mb=int(lab.memory_mb),
        procs=int(lab.procs),
        output_kb=int(lab.output_kb),
    )


def test_spec(content: dict[str, Any]):
    """A grading ``TestSpec`` from a test's archive form (see ``LabTest.to_content``)."""
    return TestSpec(
        name=content["name"],
        kind=content.get("kind", "io"),
        stdin=content.get("stdin", ""),
        args=tuple(content.get("args") or ()),
        expected=content.get("expected", ""),
        compare=content.get("compare", "trailing_ws"),
        tolerance=float(content.get("tolerance") or 1e-6),
        code=content.get("code", ""),
        hidden=bool(content.get("hidden")),
        weight=float(content.get("weight") if content.get("weight") is not None else 1.0),
    )


# --- access -------------------------------------------------------------------------------------
def is_enrolled(user: User, lab: Lab) -> bool:
    """Whether the user is actively enrolled in the lab's course."""
    return (
        db.session.scalar(
            select(Enrolment.id).where(
                Enrolment.user_id == user.id,
                Enrolment.course_id == lab.course_id,
                Enrolment.status == EnrolmentStatus.ACTIVE,
            )
        )
        is not None
    )


def is_lab_author(user: User, lab: Lab) -> bool:
    """Whether the user manages the lab's course."""
    return can(user, "course.manage", lab.course)


def submission_refusal(user: User, lab: Lab) -> str | None:
    """Why ``user`` may not run code in ``lab`` (None: allowed). Authors may always preview.

    The same rule as opening the lab anywhere (:func:`lms.domain.services.activity_access`).
    """
    refusal = activity_access(user, lab).refusal
    if refusal == ENROL_FIRST:
        return "Enrol in this course to run and submit code."
    return refusal


# --- the queue ----------------------------------------------------------------------------------
def check_rate_limit(user: User) -> None:
    """One run in flight and at most N per minute per learner; ``RateLimited`` otherwise."""
    in_flight = db.session.scalar(
        select(func.count(LabSubmission.id)).where(
            LabSubmission.user_id == user.id, LabSubmission.status.in_(PENDING_STATUSES)
        )
    )
    if in_flight >= int(setting("LAB_MAX_IN_FLIGHT")):
        raise RateLimited(
            "Your previous run is still being checked. Wait for its result, then try again."
        )
    per_minute = int(setting("LAB_RATE_PER_MINUTE"))
    recent = db.session.scalar(
        select(func.count(LabSubmission.id)).where(
            LabSubmission.user_id == user.id,
            LabSubmission.created_at >= utcnow() - timedelta(seconds=60),
        )
    )
    if recent >= per_minute:
        raise RateLimited(
            f"You have run code {recent} times in the last minute (the limit is {per_minute}). "
            "Wait a minute, then try again."
        )


def enqueue_submission(
    lab: Lab, user: User, files: dict[str, str], kind: str = SubmissionKind.SUBMIT
) -> LabSubmission:
    """Queue the learner's ``files`` for a run (visible tests) or a graded submission.

    Only the lab's editable files are taken (unknown names are ignored, missing ones keep the
    starter content). Raises ``DomainError`` (or ``RateLimited``) with a message for the learner.
    """
    kind = SubmissionKind(kind)
    tests = lab.visible_tests if kind == SubmissionKind.RUN else lab.tests
    if not tests:
        raise DomainError(
            "This lab has no visible tests to run against: use “Submit” to grade your code."
            if kind == SubmissionKind.RUN and lab.tests
            else "This lab has no tests yet, so code cannot be checked. Ask the trainer."
        )
    starter = editable_files(lab)
    chosen = {name: files.get(name, content) for name, content in starter.items()}
    try:
        chosen = clean_files(chosen)
    except ValueError as exc:
        raise DomainError(str(exc)) from exc
    check_rate_limit(user)
    submission = LabSubmission(
        lab_id=lab.id, user_id=user.id, files=chosen, kind=kind, status=SubmissionStatus.QUEUED
    )
    db.session.add(submission)
    db.session.flush()
    return submission


# --- reading results ----------------------------------------------------------------------------
def best_score(lab: Lab, user: User) -> float | None:
    """Learner's best graded score on the lab, if any."""
    return db.session.scalar(
        select(func.max(LabSubmission.score)).where(
            LabSubmission.lab_id == lab.id,
            LabSubmission.user_id == user.id,
            LabSubmission.kind == SubmissionKind.SUBMIT,
            LabSubmission.status == SubmissionStatus.DONE,
        )
    )


def submission_history(lab: Lab, user: User, limit: int = 50) -> list[LabSubmission]:
    """Learner's latest submissions to the lab, newest first."""
    return list(
        db.session.scalars(
            select(LabSubmission)
            .where(LabSubmission.lab_id == lab.id, LabSubmission.user_id == user.id)
            .order_by(LabSubmission.id.desc())
            .limit(limit)
        )
    )


def history_and_best(
    lab: Lab, user: User, limit: int = 50
) -> tuple[list[LabSubmission], float | None]:
    """:func:`submission_history` and :func:`best_score` in one query (the best over every
    graded submission: the window function sees all rows before the limit)."""
    graded = and_(
        LabSubmission.kind == SubmissionKind.SUBMIT,
        LabSubmission.status == SubmissionStatus.DONE,
    )
    rows = db.session.execute(
        select(LabSubmission, func.max(case((graded, LabSubmission.score))).over())
        .where(LabSubmission.lab_id == lab.id, LabSubmission.user_id == user.id)
        .order_by(LabSubmission.id.desc())
        .limit(limit)
    ).all()
    return [r[0] for r in rows], (rows[0][1] if rows else None)


def latest_files(
    lab: Lab, user: User, history: list[LabSubmission] | None = None
) -> dict[str, str]:
    """What the editor opens with: the learner's latest code, else the starter files.

    ``history``: the learner's submissions, newest first, when the caller has them."""
    if history is not None:
        last = history[0] if history else None
    else:
        last = db.session.scalar(
            select(LabSubmission)
            .where(LabSubmission.lab_id == lab.id, LabSubmission.user_id == user.id)
            .order_by(LabSubmission.id.desc())
            .limit(1)
        )
    files = editable_files(lab)
    if last is not None:
        files.update({k: v for k, v in last.files.items() if k in files})
    return files
