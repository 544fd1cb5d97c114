"""Grading pages: the queue, grading one submission, reopening, releasing, extensions."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from courses.assignment import grading, services
from courses.assignment.access import (
    load_assignment,
    require_grader,
    submission_or_404,
)
from courses.assignment.blueprint import bp
from courses.assignment.forms import ExtensionForm, GradeForm, SubmissionForm
from courses.assignment.models import GradingMethod
from courses.assignment.queries import QUEUE_FILTERS, extension_rows, queue_statement
from courses.assignment.rubric import FINAL_RULE, max_points
from lms.errors import DomainError
from lms.extensions import db
from lms.pagination import paginate
from lms.permissions import can
from lms.urls import parse_id


@bp.get("/<int:activity_id>/grading")
@login_required
def queue(activity_id: int):
    """Submissions to grade, filtered by status (ungraded, late...) and by the learner's group."""
    assignment = load_assignment(activity_id)
    require_grader(assignment)
    status = request.args.get("status", "")
    status = status if status in QUEUE_FILTERS else ""
    org_id = parse_id(request.args.get("organization", ""))
    search = (request.args.get("q") or "").strip()[:100]
    page = paginate(queue_statement(assignment.id, status, org_id, search), per_page=50)
    organizations = sorted(
        (p.organization for p in assignment.course.partners), key=lambda o: o.name
    )
    return render_template(
        "assignment/queue.html", assignment=assignment, page=page, status=status,
        filters=QUEUE_FILTERS, organizations=organizations, organization_id=org_id, q=search,
        confirm=SubmissionForm(), counts=grading.queue_counts(assignment),
        manage=can(current_user, "course.manage", assignment.course),
    )  # fmt: skip


@bp.route("/<int:activity_id>/grading/<int:submission_id>", methods=["GET", "POST"])
@login_required
def grade(activity_id: int, submission_id: int):
    """Grade one submission with the rubric or a score, feedback and a feedback file."""
    assignment = load_assignment(activity_id)
    require_grader(assignment)
    sub = submission_or_404(assignment, submission_id)
    form = GradeForm()
    rubric = assignment.grading == GradingMethod.RUBRIC
    posted: dict[str, str] = {}
    if form.validate_on_submit():
        posted = {k: v for k, v in request.form.items() if k.startswith("criterion-")}
        if _save_grade(assignment, sub, form, rubric):
            return _after_grade(assignment, sub)
    elif request.method == "GET":
        _prefill(form, sub, rubric)
    chosen = (
        {f"criterion-{i}": str(v) for i, v in enumerate(sub.grade.levels or [])}
        if sub.grade is not None and not posted
        else posted
    )
    return render_template(
        "assignment/grade.html", assignment=assignment, sub=sub, form=form, chosen=chosen,
        rubric_max=max_points(assignment.rubric) if rubric else None, final_rule=FINAL_RULE,
        peer=grading.received_reviews(sub) if assignment.peer_review else [],
        confirm=SubmissionForm(),
    ), (400 if form.errors else 200)  # fmt: skip


def _save_grade(assignment, sub, form: GradeForm, rubric: bool) -> bool:
    """Grade ``sub`` from the posted form; a refusal lands on the form (and nothing is saved)."""
    levels = [request.form.get(f"criterion-{i}") for i in range(len(assignment.rubric))]
    upload = request.files.get("feedback_file")
    feedback_file = (upload.filename, upload.read()) if upload and upload.filename else None
    try:
        grading.grade_submission(
            sub, current_user, levels=levels if rubric else None,
            points=float(form.score.data) if form.score.data is not None else None,
            feedback=form.feedback.data or "", feedback_file=feedback_file,
        )  # fmt: skip
    except DomainError as exc:
        db.session.rollback()
        target = form[exc.field].errors if exc.field in form else form.form_errors
        target.append(exc.message)
        return False
    db.session.commit()
    return True


def _after_grade(assignment, sub):
    """Flash the saved grade and go to the next ungraded submission (when asked) or the queue."""
    when = "" if assignment.released else " Learners see it when you release grades."
    flash(f"Grade saved for {sub.user.name}.{when}", "success")
    nxt = grading.next_ungraded(assignment, sub.id)
    if nxt is not None and request.form.get("next") == "1":
        return redirect(url_for("assignment.grade", activity_id=assignment.id, submission_id=nxt))
    return redirect(url_for("assignment.queue", activity_id=assignment.id))


def _prefill(form: GradeForm, sub, rubric: bool) -> None:
    """The grade form of a GET: the saved grade, or the learner's text quoted to comment inline."""
    if sub.grade is not None:
        form.feedback.data = sub.grade.feedback
        if not rubric:
            form.score.data = round(sub.grade.points, 1)
    elif request.args.get("inline") == "1":
        # Moodle's "comment inline": the learner's text, quoted, to annotate in the feedback.
        form.feedback.data = grading.quoted(sub.text)


@bp.post("/<int:activity_id>/grading/<int:submission_id>/reopen")
@login_required
def reopen(activity_id: int, submission_id: int):
    """Let the learner submit again (Moodle's "allow another attempt")."""
    assignment = load_assignment(activity_id)
    require_grader(assignment)
    sub = submission_or_404(assignment, submission_id)
    if not SubmissionForm().validate_on_submit():
        abort(400)
    services.reopen_submission(sub)
    db.session.commit()
    flash(f"{sub.user.name} can submit again (attempt {sub.attempt}).", "success")
    return redirect(url_for("assignment.queue", activity_id=assignment.id))


@bp.post("/<int:activity_id>/release")
@login_required
def release(activity_id: int):
    """Release every grade at once (or withhold them again)."""
    assignment = load_assignment(activity_id)
    require_grader(assignment)
    if not SubmissionForm().validate_on_submit():
        abort(400)
    if request.form.get("action") == "withhold":
        grading.withhold_grades(assignment)
        flash("Grades are hidden from learners again.", "success")
    else:
        count = grading.release_grades(assignment)
        flash(f"Grades released: {count} learner{'s' if count != 1 else ''} can see theirs.",
              "success")  # fmt: skip
    db.session.commit()
    return redirect(url_for("assignment.queue", activity_id=assignment.id))


@bp.route("/<int:activity_id>/extensions", methods=["GET", "POST"])
@login_required
def extensions(activity_id: int):
    """Per-learner extensions of the due date."""
    assignment = load_assignment(activity_id)
    require_grader(assignment)
    form = ExtensionForm()
    if form.validate_on_submit():
        try:
            ext = services.grant_extension_by_email(assignment, form.email.data,
                                                    form.due_at.data, form.reason.data or "",
                                                    current_user)  # fmt: skip
        except DomainError as exc:
            db.session.rollback()
            field = "email" if exc.field == "user_id" else exc.field
            (form[field].errors if field in form else form.form_errors).append(exc.message)
        else:
            db.session.commit()
            flash(f"{ext.user.name} now has until {form.due_at.data:%d %b %Y, %H:%M} UTC.",
                  "success")  # fmt: skip
            return redirect(url_for("assignment.extensions", activity_id=assignment.id))
    return render_template(
        "assignment/extensions.html", assignment=assignment, form=form,
        rows=extension_rows(assignment.id),
    ), (400 if form.errors else 200)  # fmt: skip
