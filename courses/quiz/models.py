"""Quiz rows: the course's question bank, the quiz settings and learners' attempts."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.domain.models import Activity, Course
from lms.extensions import db
from lms.models import User
from lms.timeutil import utcnow

QUESTION_TYPES = {
    "single": "Single choice",
    "multiple": "Multiple choice",
    "true_false": "True or false",
    "numeric": "Numeric",
    "short": "Short answer",
}
FEEDBACK_MODES = {
    "immediate": "Score, right and wrong answers and feedback right after submission",
    "score": "Score only",
    "on_release": "Nothing until an author releases the results",
}


class QuizQuestion(db.Model):
    """A question of a course's bank; quizzes pick questions by ``key`` or by ``category``."""

    __tablename__ = "quiz_questions"
    __table_args__ = (
        UniqueConstraint("course_id", "key"),
        Index("ix_quiz_questions_course_category", "course_id", "category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(80), default="")
    prompt: Mapped[str] = mapped_column(Text, default="")  # Markdown
    # single/multiple: [{"text", "correct", "feedback"}]
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # numeric: the value; true_false: 1.0 for true, 0.0 for false
    answer: Mapped[float | None] = mapped_column(Float)
    tolerance: Mapped[float | None] = mapped_column(Float)
    accepted: Mapped[list[str]] = mapped_column(JSON, default=list)  # short answers
    case_sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    points: Mapped[float] = mapped_column(Float, default=1.0)
    feedback: Mapped[str] = mapped_column(Text, default="")  # Markdown, shown after grading
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    course: Mapped[Course] = relationship()

    @property
    def type_label(self) -> str:
        """Human label of the question type."""
        return QUESTION_TYPES.get(self.type, self.type)


class Quiz(Activity):
    """Quiz settings. The pass mark is the activity's own ``pass_mark`` (also used by the
    "passed" completion rule), so there is one pass mark only."""

    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    selection: Mapped[str] = mapped_column(String(10), default="fixed")  # fixed | random
    question_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    random_category: Mapped[str | None] = mapped_column(String(80))
    random_count: Mapped[int | None] = mapped_column(Integer)
    attempts_allowed: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    time_limit_minutes: Mapped[int | None] = mapped_column(Integer)  # None: no limit
    shuffle: Mapped[bool] = mapped_column(Boolean, default=False)
    feedback_mode: Mapped[str] = mapped_column(String(20), default="immediate")
    results_released_at: Mapped[datetime | None] = mapped_column(DateTime)
    # After this moment no new attempt starts (Moodle's "close the quiz"); shown in calendars.
    close_at: Mapped[datetime | None] = mapped_column(DateTime)

    __mapper_args__ = {"polymorphic_identity": "quiz"}

    @property
    def effective_pass_mark(self) -> float:
        """Pass mark of the quiz, 50 % when unset."""
        return self.pass_mark if self.pass_mark is not None else 50.0

    @property
    def feedback_visible(self) -> bool:
        """Whether learners see per-question correctness and feedback of finished attempts."""
        if self.feedback_mode == "immediate":
            return True
        return self.feedback_mode == "on_release" and self.results_released_at is not None

    @property
    def score_visible(self) -> bool:
        """Whether learners may see their scores now."""
        return self.feedback_mode != "on_release" or self.results_released_at is not None


class AttemptState(enum.StrEnum):
    """Where a quiz attempt stands: open for answers, or submitted and graded."""

    IN_PROGRESS = "in_progress"
    FINISHED = "finished"


class QuizAttempt(db.Model):
    """One learner's attempt: the questions as they were when it started, answers and score."""

    __tablename__ = "quiz_attempts"
    __page_scope__ = "user"
    __table_args__ = (
        UniqueConstraint("quiz_id", "user_id", "number"),
        Index("ix_quiz_attempts_user_quiz", "user_id", "quiz_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    # An author's try-out: not counted against the limit and not recorded as progress.
    preview: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(20), default=AttemptState.IN_PROGRESS)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    deadline: Mapped[datetime | None] = mapped_column(DateTime)
    saved_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    # True when the server finished the attempt because its time ran out.
    auto_submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    # The questions in attempt order, options shuffled, as plain dicts (see grading.py).
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    points_earned: Mapped[float | None] = mapped_column(Float)
    points_total: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float | None] = mapped_column(Float)  # 0..100
    passed: Mapped[bool | None] = mapped_column(Boolean)

    quiz: Mapped[Quiz] = relationship()
    user: Mapped[User] = relationship()

    @property
    def finished(self) -> bool:
        """Whether the attempt was submitted or closed."""
        return self.state == AttemptState.FINISHED
