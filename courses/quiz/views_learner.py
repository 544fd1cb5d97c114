"""Learner pages of a quiz: start, answer, save, submit, result, history."""

from __future__ import annotations

from functools import partial

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from courses.quiz.access import load_quiz, own_attempt, quiz_access
from courses.quiz.attempts import (
    TimeUp,
    attempts_left,
    close_overdue,
    is_overdue,
    save_answers,
    seconds_left,
    start_attempt,
    submit_attempt,
    user_attempts,
)
from courses.quiz.blueprint import bp
from courses.quiz.grading import (
    parse_responses,
    review_rows,
    unreadable_answers,
)
from courses.quiz.models import QuizAttempt
from lms.errors import problem
from lms.extensions import db
from lms.pagecache import cached_page, expires_at, on_replay
from lms.permissions import can
from lms.timeutil import utcnow


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.post("/<int:activity_id>/start")
@login_required
def start(activity_id: int):
    """POST endpoint for a learner (or an author previewing) to start an attempt."""
    quiz = load_quiz(activity_id)
    access = quiz_access(current_user, quiz)
    try:
        attempt = start_attempt(quiz, current_user, preview=access.preview)
        db.session.commit()
    except IntegrityError:
        # A double click raced us to the same attempt number: use the attempt it opened.
        db.session.rollback()
        attempt = start_attempt(quiz, current_user, preview=access.preview)
        db.session.commit()
    return redirect(url_for("quiz.attempt", activity_id=quiz.id, attempt_id=attempt.id))


@bp.get("/<int:activity_id>/attempt/<int:attempt_id>")
@login_required
@cached_page
def attempt(activity_id: int, attempt_id: int):
    """Learner's page of an open attempt with its questions and timer."""
    quiz = load_quiz(activity_id)
    quiz_access(current_user, quiz, check_locks=False)
    att = own_attempt(quiz, attempt_id)
    now = utcnow()
    if is_overdue(att, now):
        close_overdue(quiz, current_user, now)
        db.session.commit()
        flash("The time for this attempt ran out, so it was submitted automatically.", "warning")
    if att.finished:
        return redirect(url_for("quiz.result", activity_id=quiz.id, attempt_id=att.id))
    return _render_attempt(quiz, att, now)


def _render_attempt(quiz, att: QuizAttempt, now, problems: dict[str, str] | None = None):
    """The attempt page; ``problems`` (question key -> message) are answers that need fixing."""
    left = seconds_left(att, now)
    if left is not None:
        # Kept for the same learner, the page's timer is set again each time it is served, and
        # it is not kept past the deadline (the next request then submits the attempt).
        expires_at(att.deadline)
        on_replay(partial(_retime, att.deadline, left))
    return render_template(
        "quiz/attempt.html",
        quiz=quiz,
        attempt=att,
        seconds_left=left,
        problems=problems or {},
    ), (400 if problems else 200)


def _timer_text(seconds: int) -> tuple[str, str]:
    minutes, rest = divmod(seconds, 60)
    return (
        f'data-seconds-left="{seconds}"',
        f'role="timer" aria-live="off">{minutes}:{rest:02d}</span>',
    )


def _retime(deadline, rendered_left: int, body: str) -> str:
    """The attempt page ``body`` rendered with ``rendered_left`` seconds, with the time left now."""
    now_left = max(0, int((deadline - utcnow()).total_seconds()))
    for old, new in zip(_timer_text(rendered_left), _timer_text(now_left), strict=True):
        body = body.replace(old, new, 1)
    return body


@bp.post("/<int:activity_id>/attempt/<int:attempt_id>/save")
@login_required
def save(activity_id: int, attempt_id: int):
    """POST endpoint saving a learner's answers without submitting."""
    quiz = load_quiz(activity_id)
    quiz_access(current_user, quiz, check_locks=False)
    att = own_attempt(quiz, attempt_id, lock=True)
    answers = parse_responses(att.questions, request.form.to_dict(flat=False))
    try:
        save_answers(att, answers)
    except TimeUp as exc:
        db.session.commit()  # the automatic submission stands
        if _wants_json():
            return problem(409, "Time is up", exc.message, result=_result_url(att))
        flash(exc.message, "warning")
        return redirect(_result_url(att))
    db.session.commit()
    if _wants_json():
        return jsonify(saved_at=att.saved_at.isoformat(), seconds_left=seconds_left(att, utcnow()))
    flash("Your answers are saved. Submit them when you are done.", "success")
    return redirect(url_for("quiz.attempt", activity_id=quiz.id, attempt_id=att.id))


@bp.post("/<int:activity_id>/attempt/<int:attempt_id>/submit")
@login_required
def submit(activity_id: int, attempt_id: int):
    """POST endpoint for a learner to submit an attempt for grading."""
    quiz = load_quiz(activity_id)
    quiz_access(current_user, quiz, check_locks=False)
    att = own_attempt(quiz, attempt_id, lock=True)
    answers = parse_responses(att.questions, request.form.to_dict(flat=False))
    problems = unreadable_answers(att.questions, answers)
    if problems and request.form.get("auto_submit") != "1" and not is_overdue(att, utcnow()):
        # An answer that is not a number would cost the attempt for a typing slip: keep the
        # answers, say what to fix, and count nothing yet.
        save_answers(att, answers)
        db.session.commit()
        return _render_attempt(quiz, att, utcnow(), problems)
    on_time = submit_attempt(att, answers)
    db.session.commit()
    if on_time and request.form.get("auto_submit") == "1":
        flash("The time ran out, so your answers were submitted automatically.", "warning")
    elif on_time:
        flash("Your answers were submitted.", "success")
    else:
        flash(
            "The time for this attempt had run out, so it was submitted automatically with the "
            "answers saved before the deadline. Answers sent later were not recorded.",
            "warning",
        )
    return redirect(_result_url(att))


def _result_url(att: QuizAttempt) -> str:
    return url_for("quiz.result", activity_id=att.quiz_id, attempt_id=att.id)


@bp.get("/<int:activity_id>/attempt/<int:attempt_id>/result")
@login_required
def result(activity_id: int, attempt_id: int):
    """Result page of an attempt for its learner or the course's reviewers."""
    quiz = load_quiz(activity_id)
    att = db.session.get(QuizAttempt, attempt_id)
    if att is None or att.quiz_id != quiz.id:
        abort(404)
    reviewer = can(current_user, "course.view_reports", quiz.course)
    if att.user_id != current_user.id and not reviewer:
        abort(404)
    if not att.finished:
        return redirect(url_for("quiz.attempt", activity_id=quiz.id, attempt_id=att.id))
    return render_template(
        "quiz/result.html",
        quiz=quiz,
        attempt=att,
        rows=review_rows(att.questions, att.answers, att.results),
        show_score=reviewer or att.preview or quiz.score_visible,
        show_feedback=reviewer or att.preview or quiz.feedback_visible,
        reviewing_other=att.user_id != current_user.id,
    )


@bp.get("/<int:activity_id>/attempts")
@login_required
def history(activity_id: int):
    """Learner's list of their attempts at a quiz."""
    quiz = load_quiz(activity_id)
    access = quiz_access(current_user, quiz, check_locks=False)
    if close_overdue(quiz, current_user):
        db.session.commit()
    attempts = user_attempts(quiz, current_user)
    return render_template(
        "quiz/history.html",
        quiz=quiz,
        attempts=attempts,
        access=access,
        left=attempts_left(quiz, attempts),
    )
