"""Learner pages of an assignment: save a draft, submit, revert, files, feedback, peer review."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from courses.assignment import grading, services
from courses.assignment.access import load_assignment, may_grade, require_learner
from courses.assignment.blueprint import bp
from courses.assignment.forms import ReviewForm, SubmissionForm
from courses.assignment.models import (
    Assignment,
    GradingMethod,
    PeerReview,
    ReviewStatus,
    SubmissionFile,
)
from courses.assignment.rubric import FINAL_RULE
from lms.errors import DomainError
from lms.extensions import db
from lms.lookup import owned_or_404
from lms.timeutil import utcnow


def learner_context(assignment: Assignment, user) -> dict[str, Any]:
    """What the learner's part of the activity page shows (a handful of small queries)."""
    sub = services.submission_of(assignment, user.id)
    now = utcnow()
    cutoff = services.cutoff_for(assignment, user.id)
    closed = cutoff is not None and now > cutoff
    released = assignment.released and sub is not None and sub.grade is not None
    reviews = grading.my_reviews(assignment, user.id) if assignment.peer_review else []
    peer_visible = assignment.peer_review and grading.peer_feedback_visible(assignment, user.id)
    return {
        "submission": sub,
        "due": services.due_for(assignment, user.id),
        "cutoff": cutoff,
        "extension": services.extension_for(assignment, user.id),
        "closed": closed,
        "editable": not closed and (sub is None or not sub.submitted),
        "can_revert": sub is not None and not closed and services.can_revert(assignment, sub),
        "grade": sub.grade if released else None,
        "reviews": reviews,
        "reviews_required": grading.reviews_required(assignment, user.id)
        if assignment.peer_review
        else 0,
        "reviews_done": sum(1 for r in reviews if r.status == ReviewStatus.DONE),
        "peer_visible": peer_visible,
        "received": grading.received_reviews(sub) if sub is not None and peer_visible else [],
    }


def _back(assignment: Assignment) -> str:
    return url_for("courses.activity", slug=assignment.course.slug, activity_id=assignment.id)


def _uploads(files) -> list[tuple[str, bytes]]:
    return [(f.filename or "file", f.read()) for f in files if f and f.filename]


def _refused(assignment: Assignment, form: SubmissionForm, error: DomainError | None = None):
    """The draft form again, with what the learner typed and the reasons it was refused (400).

    A refusal that editing cannot fix (the work is already submitted, the cut-off passed) goes
    back to the activity page with a message instead.
    """
    if error is not None:
        target = form[error.field].errors if error.field in form else form.form_errors
        target.append(error.message)
    ctx = learner_context(assignment, current_user)
    if not ctx["editable"]:
        flash(" ".join(e for errs in form.errors.values() for e in errs) or "Try again.", "error")
        return redirect(_back(assignment), 303)
    return render_template(
        "assignment/submission.html", assignment=assignment, form=form,
        submission=ctx["submission"],
    ), 400  # fmt: skip


@bp.post("/<int:activity_id>/save")
@login_required
def save(activity_id: int):
    """Keep the draft, or with ``action=submit`` hand it in."""
    assignment = load_assignment(activity_id)
    require_learner(assignment)
    form = SubmissionForm()
    if not form.validate_on_submit():
        return _refused(assignment, form)
    try:
        services.save_draft(
            assignment, current_user, form.text.data, _uploads(request.files.getlist("files"))
        )
        if request.form.get("action") == "submit":
            services.submit(assignment, current_user)
            message = "Your work was submitted for grading."
        else:
            message = "Draft saved. It is not submitted yet."
    except DomainError as exc:
        db.session.rollback()
        return _refused(assignment, form, exc)
    db.session.commit()
    flash(message, "success")
    return redirect(_back(assignment))


@bp.post("/<int:activity_id>/revert")
@login_required
def revert(activity_id: int):
    """Turn the learner's submission back into a draft."""
    assignment = load_assignment(activity_id)
    require_learner(assignment)
    if not SubmissionForm().validate_on_submit():
        abort(400)
    services.revert_to_draft(assignment, current_user)
    db.session.commit()
    flash("Your submission is a draft again. Submit it when you are done.", "success")
    return redirect(_back(assignment))


@bp.post("/<int:activity_id>/files/<int:file_id>/delete")
@login_required
def delete_file(activity_id: int, file_id: int):
    """Remove a file from the learner's draft."""
    assignment = load_assignment(activity_id)
    require_learner(assignment)
    if not SubmissionForm().validate_on_submit():
        abort(400)
    name = services.remove_file(assignment, current_user, file_id)
    db.session.commit()
    flash(f"“{name}” removed from your draft.", "success")
    return redirect(_back(assignment))


def _download(data: bytes, filename: str, content_type: str) -> Response:
    # Always a download with the sniffed type: an uploaded file never renders as a page here.
    return Response(
        data,
        mimetype=content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        },
    )


@bp.get("/<int:activity_id>/files/<int:file_id>")
@login_required
def file(activity_id: int, file_id: int):
    """A submitted file: for its owner, the graders and the peers asked to review it."""
    assignment = load_assignment(activity_id)
    row = db.get_or_404(SubmissionFile, file_id)
    sub = services.submission_by_id(row.submission_id)
    if sub is None or sub.assignment_id != assignment.id:
        abort(404)
    allowed = sub.user_id == current_user.id or may_grade(current_user, assignment)
    if not allowed and assignment.peer_review:
        allowed = any(
            r.submission_id == sub.id for r in grading.my_reviews(assignment, current_user.id)
        )
    if not allowed:
        abort(404)
    return _download(row.data, row.filename, row.content_type)


@bp.get("/<int:activity_id>/feedback-file")
@login_required
def feedback_file(activity_id: int):
    """The learner's own feedback file, once grades are released."""
    assignment = load_assignment(activity_id)
    sub = services.submission_of(assignment, current_user.id)
    grade = sub.grade if sub is not None else None
    if grade is None or not assignment.released or grade.feedback_data is None:
        abort(404)
    return _download(grade.feedback_data, grade.feedback_filename, grade.feedback_content_type)


# --- peer review ---------------------------------------------------------------------------------
@bp.post("/<int:activity_id>/reviews/allocate")
@login_required
def start_reviews(activity_id: int):
    """Allocate peers' work to review and open the first one to do."""
    assignment = load_assignment(activity_id)
    require_learner(assignment)
    if not SubmissionForm().validate_on_submit():
        abort(400)
    try:
        reviews = grading.allocate_reviews(assignment, current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(_back(assignment))
    db.session.commit()
    todo = next((r for r in reviews if r.status != ReviewStatus.DONE), None)
    if todo is None:
        flash("No submission is waiting for your review right now. Come back later.", "info")
        return redirect(_back(assignment))
    return redirect(url_for("assignment.review", activity_id=assignment.id, review_id=todo.id))


@bp.route("/<int:activity_id>/reviews/<int:review_id>", methods=["GET", "POST"])
@login_required
def review(activity_id: int, review_id: int):
    """Review a peer's work, anonymised: neither side sees the other's name."""
    assignment = load_assignment(activity_id)
    require_learner(assignment)
    row = owned_or_404(PeerReview, review_id, assignment_id=assignment.id)
    if row.reviewer_id != current_user.id:
        abort(404)
    form = ReviewForm()
    if form.validate_on_submit():
        if _save_review(assignment, row, form):
            flash("Thank you: your review was recorded.", "success")
            return redirect(_back(assignment))
    elif request.method == "GET" and row.status == ReviewStatus.DONE:
        form.comment.data = row.comment
    number = [r.id for r in grading.my_reviews(assignment, current_user.id)].index(row.id) + 1
    return render_template(
        "assignment/review.html", assignment=assignment, review=row, sub=row.submission,
        form=form, number=number, final_rule=FINAL_RULE,
        posted={k: v for k, v in request.form.items() if k.startswith("criterion-")},
    ), (400 if form.errors else 200)  # fmt: skip


def _save_review(assignment, row: PeerReview, form: ReviewForm) -> bool:
    """Record the posted peer review and commit; a refusal lands on the form (nothing saved)."""
    levels = [request.form.get(f"criterion-{i}") for i in range(len(assignment.rubric))]
    try:
        grading.submit_review(
            row, current_user,
            levels=levels if assignment.grading == GradingMethod.RUBRIC else None,
            points=float(form.score.data) if form.score.data is not None else None,
            comment=form.comment.data or "",
        )  # fmt: skip
    except DomainError as exc:
        db.session.rollback()
        (form[exc.field].errors if exc.field in form else form.form_errors).append(exc.message)
        return False
    db.session.commit()
    return True
