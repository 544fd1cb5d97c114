"""Queries behind the quiz's authoring pages: the question bank and a quiz's results."""

from __future__ import annotations

from sqlalchemy import Row, case, func, select
from sqlalchemy.orm import selectinload

from courses.quiz.models import AttemptState, Quiz, QuizAttempt, QuizQuestion
from lms.extensions import db
from lms.pagination import SelectPage, paginate


def question_page(course_id: int, category: str | None, per_page: int = 50) -> SelectPage:
    """A page of the course's bank, by category and key; ``None`` or ``"__all__"``: every one."""
    stmt = select(QuizQuestion).where(QuizQuestion.course_id == course_id)
    if category is not None and category != "__all__":
        stmt = stmt.where(QuizQuestion.category == category)
    return paginate(stmt.order_by(QuizQuestion.category, QuizQuestion.key), per_page=per_page)


def bank_usage(course_id: int) -> tuple[list[Quiz], dict[str, list[str]]]:
    """The course's quizzes, and for each question key the titles of the fixed quizzes using it."""
    quizzes = list(db.session.scalars(select(Quiz).where(Quiz.course_id == course_id)))
    used_by: dict[str, list[str]] = {}
    for quiz in quizzes:
        if quiz.selection == "fixed":
            for key in quiz.question_keys or []:
                used_by.setdefault(key, []).append(quiz.title)
    return quizzes, used_by


def attempt_page(quiz: Quiz, per_page: int = 50) -> SelectPage:
    """A page of the learners' attempts at ``quiz`` (previews left out), newest first."""
    stmt = (
        select(QuizAttempt)
        .where(QuizAttempt.quiz_id == quiz.id, QuizAttempt.preview.is_(False))
        .options(selectinload(QuizAttempt.user))
        .order_by(QuizAttempt.started_at.desc())
    )
    return paginate(stmt, per_page=per_page)


def results_summary(quiz: Quiz) -> Row:
    """Finished attempts, learners, average score and passes of ``quiz`` (one row)."""
    return db.session.execute(
        select(
            func.count(QuizAttempt.id),
            func.count(func.distinct(QuizAttempt.user_id)),
            func.avg(QuizAttempt.score),
            func.sum(case((QuizAttempt.passed.is_(True), 1), else_=0)),
        ).where(
            QuizAttempt.quiz_id == quiz.id,
            QuizAttempt.preview.is_(False),
            QuizAttempt.state == AttemptState.FINISHED,
        )
    ).one()
