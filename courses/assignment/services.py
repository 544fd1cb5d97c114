"""Assignment services: drafts, files, submission, extensions, grading, release, peer review.

They take validated values, flush and never commit. Every refusal is a ``DomainError`` raised
before anything is written, so a refused request leaves no half-written row.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime

from sqlalchemy import select

from courses.assignment.models import (
    Assignment,
    AssignmentExtension,
    AssignmentGrader,
    AssignmentSubmission,
    Resubmission,
    SubmissionFile,
    SubmissionStatus,
)
from courses.attachments import DANGEROUS_EXTENSIONS, safe_filename, sniff
from lms.domain.services import active_enrolment
from lms.errors import DomainError
from lms.extensions import db
from lms.models import User
from lms.progress.services import record_activity_event
from lms.timeutil import utcnow

MAX_TEXT = 100_000  # characters of a text submission
MAX_FEEDBACK = 20_000
FEEDBACK_FILE_BYTES = 5 * 1024 * 1024
# Extensions an author may allow; each is still checked by content (see courses.attachments).
ALLOWED_FILE_TYPES = {
    "pdf": "application/pdf",
    "zip": "application/zip",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "txt": "text/plain",
    "md": "text/plain",
    "py": "text/plain",
    "json": "text/plain",
    "sql": "text/plain",
    "log": "text/plain",
    "r": "text/plain",
    "csv": "text/csv",
    "tsv": "text/csv",
}


# --- dates ---------------------------------------------------------------------------------------
def extension_for(assignment: Assignment, user_id: int) -> AssignmentExtension | None:
    """The learner's extension of this assignment, if any."""
    return db.session.scalar(
        select(AssignmentExtension).where(
            AssignmentExtension.assignment_id == assignment.id,
            AssignmentExtension.user_id == user_id,
        )
    )


def due_for(assignment: Assignment, user_id: int) -> datetime | None:
    """The learner's due date: their extension, else the assignment's."""
    ext = extension_for(assignment, user_id)
    return ext.due_at if ext is not None else assignment.due_at


def cutoff_for(assignment: Assignment, user_id: int) -> datetime | None:
    """After this moment nothing more is accepted from the learner (an extension lifts it)."""
    ext = extension_for(assignment, user_id)
    if ext is not None:
        return max(filter(None, [ext.due_at, assignment.cutoff_at]))
    return assignment.cutoff_at


def _check_open(assignment: Assignment, user_id: int, now: datetime) -> None:
    cutoff = cutoff_for(assignment, user_id)
    if cutoff is not None and now > cutoff:
        raise DomainError(
            f"Submissions closed on {cutoff:%d %b %Y, %H:%M} UTC. Ask your trainer for an "
            "extension if you could not submit in time."
        )


# --- the learner's submission ------------------------------------------------------------------
def submission_of(assignment: Assignment, user_id: int) -> AssignmentSubmission | None:
    """The learner's submission (draft or submitted), if any."""
    return db.session.scalar(
        select(AssignmentSubmission).where(
            AssignmentSubmission.assignment_id == assignment.id,
            AssignmentSubmission.user_id == user_id,
        )
    )


def _editable_submission(assignment: Assignment, user: User, now: datetime):
    if active_enrolment(user.id, assignment.course_id) is None:
        raise DomainError("Only learners enrolled in the course can submit work.")
    _check_open(assignment, user.id, now)
    sub = submission_of(assignment, user.id)
    if sub is not None and sub.status == SubmissionStatus.SUBMITTED:
        raise DomainError(
            "You already submitted this assignment. "
            + (
                "Revert it to a draft to change it."
                if can_revert(assignment, sub)
                else "Ask your trainer to reopen it if you need to change it."
            )
        )
    if sub is None:
        sub = AssignmentSubmission(
            assignment_id=assignment.id, user_id=user.id, status=SubmissionStatus.DRAFT, text=""
        )
        db.session.add(sub)
    return sub


def check_file(assignment: Assignment, filename: str, data: bytes) -> tuple[str, str]:
    """(safe file name, content type) of an upload, or ``DomainError`` saying what is wrong."""
    if not data:
        raise DomainError("The file is empty.", "files")
    limit = assignment.max_file_bytes or 0
    if len(data) > limit:
        raise DomainError(
            f"“{safe_filename(filename)}” is {len(data) / 1048576:.1f} MB; files may be at most "
            f"{limit / 1048576:.1f} MB.",
            "files",
        )
    name = safe_filename(filename)
    ext = os.path.splitext(name)[1].lower().lstrip(".")
    allowed = [t for t in assignment.file_types or [] if t in ALLOWED_FILE_TYPES]
    if f".{ext}" in DANGEROUS_EXTENSIONS or ext not in allowed:
        raise DomainError(
            f"“{name}” is not an accepted type. Accepted: {', '.join(allowed) or 'none'}.",
            "files",
        )
    content_type = sniff(data, name)
    if content_type is None or content_type != ALLOWED_FILE_TYPES[ext]:
        raise DomainError(
            f"“{name}” does not contain what its name says (a .{ext} file). Upload the file "
            "itself, not a renamed one.",
            "files",
        )
    return name, content_type


def save_draft(
    assignment: Assignment,
    user: User,
    text: str | None,
    uploads: list[tuple[str, bytes]],
    now: datetime | None = None,
) -> AssignmentSubmission:
    """Keep the learner's text and new files as a draft (checked before anything is stored)."""
    now = now or utcnow()
    text = (text or "").replace("\r\n", "\n")
    if len(text) > MAX_TEXT:
        raise DomainError(f"Keep the text under {MAX_TEXT:,} characters.", "text")
    if text.strip() and not assignment.submit_text:
        raise DomainError("This assignment takes files only.", "text")
    if uploads and not assignment.submit_files:
        raise DomainError("This assignment takes text only.", "files")
    checked = [(check_file(assignment, name, data), data) for name, data in uploads]
    sub = _editable_submission(assignment, user, now)
    kept = len(sub.files)
    if kept + len(checked) > assignment.max_files:
        raise DomainError(
            f"You can attach at most {assignment.max_files} file"
            f"{'s' if assignment.max_files != 1 else ''}; remove one first.",
            "files",
        )
    if assignment.submit_text:
        sub.text = text
    taken = {f.filename for f in sub.files}
    for (name, content_type), data in checked:
        stem, ext = os.path.splitext(name)
        n = 2
        while name in taken:
            name = f"{stem}-{n}{ext}"
            n += 1
        taken.add(name)
        sub.files.append(
            SubmissionFile(filename=name, content_type=content_type, size=len(data),
                           sha256=hashlib.sha256(data).hexdigest(), data=data)
        )  # fmt: skip
    sub.updated_at = now
    db.session.flush()
    return sub


def remove_file(assignment: Assignment, user: User, file_id: int) -> str:
    """Delete a file of the learner's draft; returns its name."""
    sub = _editable_submission(assignment, user, utcnow())
    found = next((f for f in sub.files if f.id == file_id), None)
    if found is None:
        raise DomainError("That file is not part of your draft.")
    sub.files.remove(found)
    db.session.flush()
    return found.filename


def submit(assignment: Assignment, user: User, now: datetime | None = None):
    """Hand the draft in for grading: it must hold text or a file, before the cut-off."""
    now = now or utcnow()
    sub = _editable_submission(assignment, user, now)
    if not (sub.text or "").strip() and not sub.files:
        raise DomainError("Write your answer or attach a file before submitting.", "text")
    due = due_for(assignment, user.id)
    sub.status = SubmissionStatus.SUBMITTED
    sub.submitted_at = now
    sub.late = due is not None and now > due
    db.session.flush()
    record_activity_event(user, assignment, "submitted", details={"late": sub.late})
    return sub


def can_revert(assignment: Assignment, sub: AssignmentSubmission) -> bool:
    """Whether the learner may turn their submission back into a draft themselves."""
    return (
        sub.status == SubmissionStatus.SUBMITTED
        and assignment.resubmission == Resubmission.UNTIL_GRADED
        and sub.grade is None
    )


def revert_to_draft(assignment: Assignment, user: User) -> AssignmentSubmission:
    """The learner turns their submission back into a draft (until it is graded)."""
    sub = submission_of(assignment, user.id)
    if sub is None or not can_revert(assignment, sub):
        raise DomainError("This submission can no longer be changed: it was graded or is final.")
    _check_open(assignment, user.id, utcnow())
    sub.status = SubmissionStatus.DRAFT
    db.session.flush()
    return sub


def reopen_submission(sub: AssignmentSubmission) -> AssignmentSubmission:
    """The trainer lets the learner submit again (a new attempt; the last grade stays until
    the new work is graded)."""
    if sub.status != SubmissionStatus.SUBMITTED:
        raise DomainError("Only a submitted piece of work can be reopened.")
    if sub.assignment.resubmission == Resubmission.NEVER:
        raise DomainError("This assignment allows one submission only (see its settings).")
    sub.status = SubmissionStatus.DRAFT
    sub.attempt = (sub.attempt or 1) + 1
    db.session.flush()
    return sub


# --- extensions ----------------------------------------------------------------------------------
def grant_extension(
    assignment: Assignment, learner: User, due_at: datetime, reason: str, by: User
) -> AssignmentExtension:
    """Give ``learner`` a later due date (replacing an earlier extension)."""
    if active_enrolment(learner.id, assignment.course_id) is None:
        raise DomainError("This person is not enrolled in the course.", "user_id")
    if assignment.due_at is not None and due_at <= assignment.due_at:
        raise DomainError("An extension must end after the assignment's due date.", "due_at")
    ext = extension_for(assignment, learner.id)
    if ext is None:
        ext = AssignmentExtension(assignment_id=assignment.id, user_id=learner.id)
        db.session.add(ext)
    ext.due_at = due_at
    ext.reason = (reason or "").strip()[:500]
    ext.granted_by_id = by.id
    ext.granted_at = utcnow()
    db.session.flush()
    return ext


def grant_extension_by_email(
    assignment: Assignment, email: str, due_at: datetime, reason: str, by: User
) -> AssignmentExtension:
    """Grant an extension to the learner with this email address (the extensions form)."""
    learner = db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if learner is None:
        raise DomainError("No learner of this course uses that email address.", "email")
    return grant_extension(assignment, learner, due_at, reason, by)


# --- graders -------------------------------------------------------------------------------------
def is_grader(assignment: Assignment, user: User) -> bool:
    """Assigned graders (e.g. a mentor at the enterprise partner), besides the course's authors."""
    return any(g.user_id == user.id for g in assignment.graders)


def set_graders(assignment: Assignment, users: list[User]) -> None:
    """Make exactly ``users`` the assignment's additional graders."""
    wanted = {u.id for u in users}
    for g in list(assignment.graders):
        if g.user_id not in wanted:
            assignment.graders.remove(g)
    have = {g.user_id for g in assignment.graders}
    for uid in sorted(wanted - have):
        assignment.graders.append(AssignmentGrader(user_id=uid))
    db.session.flush()


def submission_by_id(submission_id: int) -> AssignmentSubmission | None:
    """A submission by id (the caller checks that it belongs to the assignment)."""
    return db.session.get(AssignmentSubmission, submission_id)
