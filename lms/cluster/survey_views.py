"""Survey pages: the course evaluation, the follow-up (employee or HR), the trainers' results."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.cluster import surveys as svc
from lms.cluster.views import bp
from lms.domain.models import Course
from lms.errors import DomainError, NotAllowed
from lms.extensions import db
from lms.models import User
from lms.permissions import can
from lms.timeutil import utcnow


def _course_or_404(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if course is None:
        abort(404)
    return course


@bp.route("/surveys/course/<int:course_id>", methods=["GET", "POST"])
@login_required
def course_evaluation(course_id: int):
    """Two questions and a comment at the end of a course."""
    course = _course_or_404(course_id)
    error = None
    if request.method == "POST":
        form = request.form
        try:
            svc.answer_evaluation(current_user, course, form.get("satisfaction"),
                                  form.get("relevance"), form.get("comment", ""), utcnow())  # fmt: skip
            db.session.commit()
            flash("Thank you: your answers help the course's trainers and partners.", "success")
            return redirect(url_for("main.dashboard"))
        except NotAllowed as exc:
            db.session.rollback()
            return render_template("cluster/survey_closed.html", message=exc.message), 403
        except DomainError as exc:
            db.session.rollback()
            error = exc
    return render_template(
        "cluster/survey.html", course=course, kind="evaluation", error=error, subject=None
    ), (400 if error else 200)


@bp.route("/surveys/follow-up/<int:course_id>/<int:user_id>", methods=["GET", "POST"])
@login_required
def follow_up(course_id: int, user_id: int):
    """Are the skills used at work? The employee answers, and so does their HR."""
    course = _course_or_404(course_id)
    learner = db.session.get(User, user_id)
    if learner is None:
        abort(404)
    error = None
    if request.method == "POST":
        form = request.form
        try:
            svc.answer_follow_up(current_user, learner, course, form.get("skills_used"),
                                 form.get("comment", ""), utcnow())  # fmt: skip
            db.session.commit()
            flash("Thank you for the follow-up.", "success")
            return redirect(url_for("main.dashboard"))
        except NotAllowed as exc:
            db.session.rollback()
            return render_template("cluster/survey_closed.html", message=exc.message), 403
        except DomainError as exc:
            db.session.rollback()
            error = exc
    return render_template(
        "cluster/survey.html", course=course, kind="follow_up", error=error,
        subject=None if learner.id == current_user.id else learner,
    ), (400 if error else 200)  # fmt: skip


@bp.get("/surveys/course/<int:course_id>/results")
@login_required
def course_feedback(course_id: int):
    """What learners said about the course (no names; averages from 5 answers)."""
    course = _course_or_404(course_id)
    if not can(current_user, "course.view_reports", course):
        abort(403)
    return render_template(
        "cluster/feedback.html", course=course, feedback=svc.course_feedback(course.id)
    )
