"""Quiz attempts: start, save, submit, finish at the deadline, release results.

The server is authoritative about time: every call takes ``now`` and finishes an attempt whose
deadline (plus a short grace for the network) has passed with the answers saved before it,
Moodle's "open attempts are submitted automatically". Services flush, never commit.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from courses.quiz.bank import course_questions, question_snapshot
from courses.quiz.grading import grade_attempt
from courses.quiz.models import AttemptState, Quiz, QuizAttempt
from courses.quiz.selection import SelectionError, pick_questions
from lms.errors import Conflict, DomainError
from lms.extensions import db
from lms.models import User
from lms.progress.services import record_activity_event
from lms.timeutil import utcnow

DEFAULT_GRACE_SECONDS = 20


class TimeUp(Conflict):
    """Answers arrived after the deadline: the attempt was graded with what was saved before."""


def grace() -> timedelta:
    """Extra time after a timed attempt's deadline during which a submit still counts."""
    return timedelta(seconds=current_app.config.get("QUIZ_GRACE_SECONDS", DEFAULT_GRACE_SECONDS))


def is_overdue(attempt: QuizAttempt, now: datetime) -> bool:
    """Whether an open attempt is past its deadline plus the grace period."""
    return (
        attempt.state == AttemptState.IN_PROGRESS
        and attempt.deadline is not None
        and now > attempt.deadline + grace()
    )


def seconds_left(attempt: QuizAttempt, now: datetime) -> int | None:
    """Seconds left in a timed attempt, or None when untimed."""
    if attempt.deadline is None:
        return None
    return max(0, int((attempt.deadline - now).total_seconds()))


def user_attempts(quiz: Quiz, user: User) -> list[QuizAttempt]:
    """A learner's attempts at a quiz, in order."""
    return list(
        db.session.scalars(
            select(QuizAttempt)
            .where(QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == user.id)
            .order_by(QuizAttempt.number)
        )
    )


def counted_attempts(attempts: list[QuizAttempt]) -> int:
    """Number of attempts that count toward the limit (previews do not)."""
    return sum(1 for a in attempts if not a.preview)


def attempts_left(quiz: Quiz, attempts: list[QuizAttempt]) -> int | None:
    """How many more attempts the learner may start (``None``: unlimited)."""
    if quiz.attempts_allowed is None:
        return None
    return max(0, quiz.attempts_allowed - counted_attempts(attempts))


def finish_attempt(attempt: QuizAttempt, now: datetime, auto: bool = False) -> QuizAttempt:
    """Grade the stored answers and close the attempt; record progress for real attempts."""
    quiz = attempt.quiz
    result = grade_attempt(attempt.questions or [], attempt.answers or {})
    attempt.results = [r.as_dict() for r in result.results]
    attempt.points_earned = result.earned
    attempt.points_total = result.total
    attempt.score = result.score
    attempt.passed = result.score >= quiz.effective_pass_mark
    attempt.state = AttemptState.FINISHED
    attempt.auto_submitted = auto
    # An attempt the server closes late counts as finished when its time ran out.
    attempt.finished_at = min(now, attempt.deadline) if auto and attempt.deadline else now
    db.session.flush()
    if not attempt.preview:
        record_activity_event(attempt.user, quiz, "graded", grade=result.score)
    return attempt


def close_overdue(
    quiz: Quiz,
    user: User,
    now: datetime | None = None,
    attempts: list[QuizAttempt] | None = None,
) -> list[QuizAttempt]:
    """Finish the user's open attempts whose time ran out; returns those it finished.

    ``attempts``: the user's attempts of ``quiz`` when the caller has them (no query then)."""
    now = now or utcnow()
    if attempts is None:
        attempts = db.session.scalars(
            select(QuizAttempt).where(
                QuizAttempt.quiz_id == quiz.id,
                QuizAttempt.user_id == user.id,
                QuizAttempt.state == AttemptState.IN_PROGRESS,
                QuizAttempt.deadline.is_not(None),
            )
        )
    closed = []
    for attempt in attempts:
        if attempt.state == AttemptState.IN_PROGRESS and is_overdue(attempt, now):
            closed.append(finish_attempt(attempt, now, auto=True))
    return closed


def bank_snapshots(quiz: Quiz) -> list[dict[str, Any]]:
    """Frozen copies of every question in the course's bank."""
    return [question_snapshot(q) for q in course_questions(quiz.course_id)]


def start_attempt(
    quiz: Quiz,
    user: User,
    preview: bool = False,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> QuizAttempt:
    """Open a new attempt, or return the one already open (a second click starts nothing new).

    Refuses when no attempts are left (previews are not counted) or the bank cannot supply the
    quiz's questions.
    """
    now = now or utcnow()
    close_overdue(quiz, user, now)
    attempts = user_attempts(quiz, user)
    for attempt in attempts:
        if attempt.state == AttemptState.IN_PROGRESS:
            return attempt
    if not preview:
        _refuse_if_closed(quiz, attempts, now)
    questions = _draw_questions(quiz, rng)
    number = (
        db.session.scalar(
            select(func.max(QuizAttempt.number)).where(
                QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == user.id
            )
        )
        or 0
    ) + 1
    attempt = QuizAttempt(
        quiz=quiz,
        user=user,
        number=number,
        preview=preview,
        state=AttemptState.IN_PROGRESS,
        started_at=now,
        deadline=now + timedelta(minutes=quiz.time_limit_minutes)
        if quiz.time_limit_minutes
        else None,
        questions=questions,
        answers={},
        results=[],
    )
    db.session.add(attempt)
    db.session.flush()
    return attempt


def _refuse_if_closed(quiz: Quiz, attempts: list[QuizAttempt], now: datetime) -> None:
    """Refuse a learner's new attempt once the quiz has closed or their attempts are used up."""
    if quiz.close_at is not None and now > quiz.close_at:
        raise Conflict(f"This quiz closed on {quiz.close_at:%d %b %Y, %H:%M} UTC.")
    if attempts_left(quiz, attempts) == 0:
        raise Conflict(
            f"You have used all {quiz.attempts_allowed} attempt"
            f"{'s' if quiz.attempts_allowed != 1 else ''} allowed for this quiz."
        )


def _draw_questions(quiz: Quiz, rng: random.Random | None) -> list[dict[str, Any]]:
    """The frozen questions of a new attempt, picked from the bank as the quiz says."""
    try:
        return pick_questions(
            bank_snapshots(quiz),
            selection=quiz.selection,
            question_keys=quiz.question_keys or [],
            category=quiz.random_category,
            count=quiz.random_count,
            shuffle=bool(quiz.shuffle),
            rng=rng,
        )
    except SelectionError as exc:
        raise DomainError(f"{exc} Please tell the course authors.") from None


def _refuse_if_finished(attempt: QuizAttempt) -> None:
    if attempt.state == AttemptState.FINISHED:
        raise Conflict(
            f"Attempt {attempt.number} was already submitted"
            f"{' automatically when its time ran out' if attempt.auto_submitted else ''}; "
            "its answers can no longer change."
        )


def save_answers(
    attempt: QuizAttempt, answers: dict[str, Any], now: datetime | None = None
) -> None:
    """Keep the answers of an open attempt ("Save answers" and the timer's last save).

    After the deadline (and grace) nothing is stored: the attempt is graded with what was saved
    before and :class:`TimeUp` says so.
    """
    now = now or utcnow()
    _refuse_if_finished(attempt)
    if is_overdue(attempt, now):
        finish_attempt(attempt, now, auto=True)
        raise TimeUp(
            "The time for this attempt ran out, so it was submitted automatically with the "
            "answers saved before the deadline. Answers sent later were not recorded."
        )
    attempt.answers = dict(answers)
    attempt.saved_at = now
    db.session.flush()


def submit_attempt(
    attempt: QuizAttempt, answers: dict[str, Any], now: datetime | None = None
) -> bool:
    """Store ``answers`` and grade the attempt. Returns ``False`` when the answers arrived too
    late: the attempt is then graded with the answers saved before the deadline."""
    now = now or utcnow()
    _refuse_if_finished(attempt)
    if is_overdue(attempt, now):
        finish_attempt(attempt, now, auto=True)
        return False
    attempt.answers = dict(answers)
    attempt.saved_at = now
    finish_attempt(attempt, now)
    return True


def release_results(quiz: Quiz, now: datetime | None = None) -> None:
    """Show learners their quiz scores from now on."""
    quiz.results_released_at = now or utcnow()
    db.session.flush()


def withhold_results(quiz: Quiz) -> None:
    """Hide quiz scores from learners again."""
    quiz.results_released_at = None
    db.session.flush()


def best_attempt(attempts: list[QuizAttempt]) -> QuizAttempt | None:
    """Highest-scoring finished, non-preview attempt, if any."""
    graded = [
        a
        for a in attempts
        if a.state == AttemptState.FINISHED and not a.preview and a.score is not None
    ]
    return max(graded, key=lambda a: (a.score, -a.number), default=None)
