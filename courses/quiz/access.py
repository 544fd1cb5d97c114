"""Who may take a quiz, as one function per situation (permissions go through ``can``)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from courses.quiz.models import Quiz, QuizAttempt
from lms.domain.access import Condition, lock_reasons
from lms.domain.models import Activity
from lms.domain.services import active_enrolment
from lms.errors import NotAllowed
from lms.extensions import db
from lms.models import User
from lms.permissions import can, require
from lms.progress.queries import activity_states
from lms.timeutil import utcnow


@dataclass(frozen=True)
class QuizAccess:
    quiz: Quiz
    enrolled: bool
    author: bool

    @property
    def preview(self) -> bool:
        """Authors who are not enrolled try the quiz out: nothing is recorded as progress."""
        return self.author and not self.enrolled


def quiz_access(user: User, quiz: Quiz, check_locks: bool = True) -> QuizAccess:
    """Refuse unless ``user`` may take ``quiz``: enrolled learners (activity unlocked) and
    course authors (preview). Hidden courses 404 before this is called."""
    course = quiz.course
    author = can(user, "course.manage", course)
    enrolled = active_enrolment(user.id, course.id) is not None
    if not enrolled and not author:
        raise NotAllowed(f"Enrol in “{course.title}” to take this quiz.")
    if enrolled and not author and check_locks:
        reasons = _lock_reasons(user, quiz)
        if reasons:
            raise NotAllowed("This quiz is not open to you yet. " + " ".join(reasons))
    return QuizAccess(quiz, enrolled, author)


def _lock_reasons(user: User, quiz: Quiz) -> list[str]:
    """Why the quiz is still locked for ``user`` (Moodle's restrict access), if it is."""
    if quiz.available_from is None and not quiz.conditions:
        return []
    titles = dict(
        db.session.execute(
            select(Activity.id, Activity.title).where(Activity.course_id == quiz.course_id)
        ).all()
    )
    conditions = [Condition(c.kind, c.required_activity_id, c.min_grade) for c in quiz.conditions]
    states = activity_states(user.id, quiz.course_id)
    return lock_reasons(quiz.available_from, conditions, states, titles, utcnow())


def load_quiz(activity_id: int) -> Quiz:
    """The quiz, or 404 when it does not exist or its course is hidden from the current user."""
    quiz = db.get_or_404(Quiz, activity_id)
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
