"""Lesson services: save a body (keeping a revision), restore a revision. They flush, never commit."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from courses.lesson.models import Lesson, LessonRevision
from lms.domain.services import mark_course_edited
from lms.errors import DomainError
from lms.extensions import db
from lms.models import User
from lms.timeutil import utcnow

MAX_BODY = 200_000  # characters; a lesson longer than a short book belongs in several lessons


def _next_number(lesson: Lesson) -> int:
    if lesson.id is None:
        return max((r.number for r in lesson.revisions), default=0) + 1
    current = db.session.scalar(
        select(func.max(LessonRevision.number)).where(LessonRevision.lesson_id == lesson.id)
    )
    pending = max((r.number for r in lesson.revisions if r.id is None), default=0)
    return max(current or 0, pending) + 1


def save_lesson_body(
    lesson: Lesson,
    body: str,
    author: User | None,
    restored_from: int | None = None,
    mark_edited: bool = True,
) -> LessonRevision | None:
    """Store ``body`` on ``lesson`` and keep it as a new revision.

    Saving an unchanged body of a lesson that already has revisions keeps nothing new (returns
    ``None``), so pressing "Save" twice does not clutter the history. A change of an existing
    lesson withdraws the course's sign-offs (``mark_course_edited``).
    """
    body = (body or "").replace("\r\n", "\n")
    if len(body) > MAX_BODY:
        raise DomainError(
            f"The lesson is too long ({len(body):,} characters; the limit is {MAX_BODY:,}). "
            "Split it into several lessons.",
            field="body",
        )
    has_revisions = bool(lesson.revisions)
    if has_revisions and body == (lesson.body or "") and restored_from is None:
        return None
    number = _next_number(lesson)
    revision = LessonRevision(
        number=number,
        body=body,
        author_id=author.id if author is not None else None,
        created_at=utcnow(),
        restored_from=restored_from,
    )
    lesson.revisions.append(revision)
    lesson.body = body
    if mark_edited and lesson.course is not None and (has_revisions or lesson.id is not None):
        mark_course_edited(lesson.course)
    db.session.flush()
    return revision


def get_revision(lesson: Lesson, number: int) -> LessonRevision | None:
    """Revision of a lesson by number, if any."""
    return db.session.scalar(
        select(LessonRevision).where(
            LessonRevision.lesson_id == lesson.id, LessonRevision.number == number
        )
    )


def revision_history(lesson: Lesson) -> list[LessonRevision]:
    """Every revision of a lesson with its author, the newest first."""
    return list(
        db.session.scalars(
            select(LessonRevision)
            .where(LessonRevision.lesson_id == lesson.id)
            .options(selectinload(LessonRevision.author))
            .order_by(LessonRevision.number.desc())
        )
    )


def restore_revision(lesson: Lesson, number: int, author: User) -> LessonRevision:
    """Make revision ``number`` the current body again, as a new revision (history is kept)."""
    old = get_revision(lesson, number)
    if old is None:
        raise DomainError(f"Revision {number} of this lesson does not exist.")
    revision = save_lesson_body(lesson, old.body, author, restored_from=number)
    assert revision is not None
    return revision
