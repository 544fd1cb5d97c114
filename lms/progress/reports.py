"""Trainer reports: the learners × activities completion matrix, its CSV, overrides, recompute."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField

from lms.domain.models import Activity, Course
from lms.errors import DomainError
from lms.export import csv_response, stream_rows
from lms.extensions import db
from lms.forms import options
from lms.models import User
from lms.permissions import can, require
from lms.progress import queries, report_queries
from lms.progress.blueprint import bp
from lms.progress.recompute import recompute_course
from lms.progress.services import override_activity_completion
from lms.templating import status_label
from lms.urls import parse_id


def _course_or_404(slug: str) -> Course:
    course = queries.course_by_slug(slug)
    if course is None:
        abort(404)
    require("course.view_reports", course, hide=True)
    return course


def _org_filter() -> int | None:
    return parse_id(request.args.get("org", ""))


@bp.route("/courses-report/<slug>")
@login_required
def course_report(slug: str):
    """Trainers' completion report of one course, per learner and activity."""
    course = _course_or_404(slug)
    org_id = _org_filter()
    report = report_queries.course_report(course, org_id)
    return render_template(
        "progress/course_report.html",
        course=course,
        activities=report.activities,
        page=report.page,
        cells=report.cells,
        states=report.states,
        orgs=report.organizations,
        org_id=org_id,
        can_override=can(current_user, "course.override_completion", course),
        can_recompute=can(current_user, "course.manage", course),
    )


@bp.route("/courses-report/<slug>.csv")
@login_required
def course_report_csv(slug: str):
    """CSV export of a course's completion report."""
    course = _course_or_404(slug)
    activities = report_queries.course_activities(course.id)
    index = {a.id: i for i, a in enumerate(activities)}
    stmt = report_queries.report_rows(course.id, _org_filter())
    header = ["Learner", "Email", "Course state", "Progress %", "Course grade %"]
    for a in activities:
        header += [f"{a.title}: state", f"{a.title}: grade %"]

    def rows():
        """One CSV row per learner, gathering their activity states."""
        current, row = None, None
        for r in stream_rows(stmt):
            if r[0] != current:
                if row is not None:
                    yield row
                current = r[0]
                row = [r[1], r[2], status_label(r[3] or "not_started"), r[4] or 0, r[5]]
                row += [status_label("not_started"), None] * len(activities)
            if r[6] in index:
                i = 5 + 2 * index[r[6]]
                state = "completed" if r[7] else ("failed" if r[8] else "in_progress")
                row[i] = status_label(state)
                row[i + 1] = r[9]
        if row is not None:
            yield row

    return csv_response(f"{course.slug}-completion.csv", header, rows())


class OverrideForm(FlaskForm):
    """Trainer's form to mark an activity completed or not for a learner."""

    state = RadioField(
        "Completion",
        choices=options(
            [
                ("completed", "Mark as completed"),
                ("not_completed", "Mark as not completed"),
                ("auto", "Remove the override (the activity's rule applies)"),
            ]
        ),  # fmt: skip
        default="completed",
    )
    reason = TextAreaField(
        "Reason", description="Recorded with the override, e.g. “Assessed in the workshop”."
    )


@bp.route(
    "/courses-report/<slug>/override/<int:user_id>/<int:activity_id>", methods=["GET", "POST"]
)
@login_required
def course_override(slug: str, user_id: int, activity_id: int):
    """Trainer's page to override one learner's completion of an activity."""
    course = _course_or_404(slug)
    require("course.override_completion", course)
    activity = db.session.get(Activity, activity_id)
    # Only learners of this course (as the report lists them): any other id is "not found", so
    # the page cannot be used to read the name of whoever has that id on the site.
    learner = report_queries.enrolled_learner(course.id, user_id)
    if activity is None or activity.course_id != course.id or learner is None:
        abort(404)
    form = OverrideForm()
    status = 200
    if request.method == "POST":
        if form.validate() and _save_override(learner, activity, form):
            flash(f"Completion of “{activity.title}” for {learner.name} updated.", "success")
            return redirect(url_for("progress.course_report", slug=course.slug))
        status = 400
    row = queries.activity_states(learner.id, course.id).get(activity.id)
    return render_template(
        "progress/override.html", course=course, activity=activity, learner=learner, row=row,
        form=form,
    ), status  # fmt: skip


def _save_override(learner: User, activity: Activity, form: OverrideForm) -> bool:
    """Apply the posted override and commit; a refusal lands on the form (nothing is saved)."""
    choice = {"completed": True, "not_completed": False}.get(form.state.data)
    try:
        override_activity_completion(learner, activity, choice, current_user, form.reason.data)
    except DomainError as exc:
        db.session.rollback()
        if exc.field == "reason":
            form.reason.errors = [exc.message]
        else:
            form.form_errors.append(exc.message)
        return False
    db.session.commit()
    return True


@bp.route("/courses-report/<slug>/recompute", methods=["POST"])
@login_required
def course_recompute(slug: str):
    """POST endpoint for course managers to recompute everyone's completion."""
    course = _course_or_404(slug)
    require("course.manage", course)
    result = recompute_course(course)
    db.session.commit()
    flash(
        f"Completion recomputed for {result['learners']} learners: "
        f"{result['courses_changed']} changed, {result['completed']} newly completed.",
        "success",
    )
    return redirect(url_for("progress.course_report", slug=course.slug))
