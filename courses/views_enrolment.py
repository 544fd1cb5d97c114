"""Enrolment: enrol oneself, leave a course, and the trainer's enrolment list."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from courses.blueprint import bp, course_or_404, flash_error, form_error, user
from courses.enrolment import (
    course_invitations,
    enrol_by_email,
    enrolment_counts,
    enrolment_query,
    pending_invitation,
    respond_to_invitation,
    self_enrol,
    withdraw,
)
from courses.forms import ConfirmForm, EnrolForm, EnrolOtherForm
from lms.domain.models import Enrolment
from lms.domain.services import active_enrolment
from lms.errors import DomainError
from lms.extensions import db
from lms.lookup import owned_or_404
from lms.models import User
from lms.pagination import paginate


@bp.post("/<slug>/enrol")
@login_required
def enrol(slug: str):
    """POST endpoint for a learner to enrol in a course."""
    course = course_or_404(slug)
    form = EnrolForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        self_enrol(user(), course, form.key.data or "")
    except DomainError as exc:
        flash_error(exc)
        return redirect(url_for("courses.overview", slug=slug))
    db.session.commit()
    flash(f"You are enrolled in “{course.title}”.", "success")
    return redirect(url_for("courses.overview", slug=slug))


@bp.post("/<slug>/unenrol")
@login_required
def unenrol(slug: str):
    """POST endpoint for a learner to leave a course."""
    course = course_or_404(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    enrolment = active_enrolment(user().id, course.id)
    if enrolment is None:
        flash("You are not enrolled in this course.", "info")
    else:
        withdraw(enrolment)
        db.session.commit()
        flash(f"You left “{course.title}”. Your progress is kept if you enrol again.", "success")
    return redirect(url_for("courses.overview", slug=slug))


@bp.route("/<slug>/enrolments", methods=["GET", "POST"])
@login_required
def enrolments(slug: str):
    """Trainer's enrolment list of a course, with the form to enrol by email."""
    course = course_or_404(slug, "course.enrol_others")
    form = EnrolOtherForm()
    if form.validate_on_submit():
        try:
            enrolment = enrol_by_email(course, form.email.data, user())
        except DomainError as exc:
            form_error(form, exc)
        else:
            db.session.commit()
            _flash_enrolled(enrolment, form.email.data)
            return redirect(url_for("courses.enrolments", slug=slug))
    status = request.args.get("status", "")
    q = request.args.get("q", "").strip()[:100]
    return render_template(
        "courses/enrolments.html",
        course=course,
        form=form,
        page=paginate(enrolment_query(course.id, status, q), per_page=50),
        counts=enrolment_counts(course.id),
        invitations=course_invitations(course.id),
        status=status,
        q=q,
        confirm=ConfirmForm(),
    ), (400 if form.errors else 200)


def _flash_enrolled(enrolment, email: str) -> None:
    """Say who is enrolled, or (without naming who has an account) that an invitation went out."""
    if enrolment is not None:
        flash(f"{enrolment.user.name} is enrolled.", "success")
        return
    flash(
        f"If {User.normalise_email(email)} is a learner of the cluster, "
        "they are invited: they are enrolled when they accept.",
        "info",
    )


@bp.post("/<slug>/enrolments/<int:enrolment_id>/withdraw")
@login_required
def withdraw_enrolment(slug: str, enrolment_id: int):
    """POST endpoint for trainers to withdraw a learner's enrolment."""
    course = course_or_404(slug, "course.enrol_others")
    enrolment = owned_or_404(Enrolment, enrolment_id, course_id=course.id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        withdraw(enrolment)
    except DomainError as exc:
        flash_error(exc)
    else:
        db.session.commit()
        flash(f"{enrolment.user.name} was unenrolled; their history is kept.", "success")
    return redirect(url_for("courses.enrolments", slug=slug))


@bp.post("/<slug>/invitation")
@login_required
def answer_invitation(slug: str):
    """The invited learner accepts (and is enrolled) or declines a trainer's invitation."""
    course = course_or_404(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    invitation = pending_invitation(user(), course)
    answer = request.form.get("answer")
    if invitation is None or answer not in ("accept", "decline"):
        flash("There is no open invitation to this course for you.", "info")
        return redirect(url_for("courses.overview", slug=slug))
    try:
        respond_to_invitation(invitation, accept=answer == "accept")
    except DomainError as exc:
        flash_error(exc)
        return redirect(url_for("courses.overview", slug=slug))
    db.session.commit()
    if answer == "accept":
        flash(f"You are enrolled in “{course.title}”.", "success")
    else:
        flash("You declined the invitation.", "info")
    return redirect(url_for("courses.overview", slug=slug))
