"""Who may take a quiz, as one function per situation (permissions go through ``can``)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from courses.quiz.models import Quiz, QuizAttempt
from lms.domain.models import Course
from lms.errors import NotAllowed
from lms.extensions import db
from lms.models import User
from lms.permissions import require
from lms.progress.access import activity_access


@dataclass(frozen=True)
class QuizAccess:
    """What the user may do with a quiz: enrolled learner, author, preview."""

    quiz: Quiz
    enrolled: bool
    author: bool

    @property
    def preview(self) -> bool:
        """Authors who are not enrolled try the quiz out: nothing is recorded as progress."""
        return self.author and not self.enrolled


def quiz_access(user: User, quiz: Quiz, check_locks: bool = True) -> QuizAccess:
    """Refuse unless ``user`` may take ``quiz``: enrolled learners (activity unlocked) and
    course authors (preview). Hidden courses 404 before this is called.

    The rule is the one every activity follows (:func:`lms.domain.services.activity_access`).
    """
    access = activity_access(user, quiz)
    if not access.enrolled and not access.staff:
        raise NotAllowed(f"Enrol in “{quiz.course.title}” to take this quiz.")
    if check_locks and access.refusal:
        raise NotAllowed("This quiz is not open to you yet. " + access.refusal)
    return QuizAccess(quiz, access.enrolled, access.staff)


def load_quiz(activity_id: int) -> Quiz:
    """The quiz, or 404 when it does not exist or its course is hidden from the current user."""
    # The course with its partners (the permission check) and the access conditions come in
    # the same query.
    quiz = db.get_or_404(
        Quiz,
        activity_id,
        options=[
            joinedload(Quiz.course).joinedload(Course.partners),
            selectinload(Quiz.conditions),
        ],
    )
    require("course.view", quiz.course, hide=True)
    return quiz


def own_attempt(quiz: Quiz, attempt_id: int, lock: bool = False) -> QuizAttempt:
    """The current user's attempt of this quiz; 404 for anyone else's. ``lock`` holds the row
    until the commit, so two submissions racing each other grade the attempt only once."""
    stmt = select(QuizAttempt).where(QuizAttempt.id == attempt_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    attempt = db.session.scalar(stmt)
    if attempt is None or attempt.quiz_id != quiz.id or attempt.user_id != current_user.id:
        abort(404)
    return attempt
