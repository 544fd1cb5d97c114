"""Gradebook pages: the trainer's grid (with exports and overrides), setup, the learner's grades."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from lms.domain.models import Activity, Course
from lms.domain.services import active_enrolment
from lms.errors import DomainError
from lms.export import csv_response, xlsx_response
from lms.extensions import db
from lms.gradebook import services
from lms.gradebook.queries import (
    build_gradebook,
    course_categories,
    graded_activities,
    learners_statement,
)
from lms.gradebook.rules import RULE_TEXT
from lms.lookup import owned_or_404
from lms.models import User
from lms.pagination import paginate
from lms.permissions import can, require
from lms.urls import parse_id

bp = Blueprint("gradebook", __name__, url_prefix="/gradebook")


class ConfirmForm(FlaskForm):
    """CSRF only; fields are read from ``request.form``."""


def _course(course_id: int, capability: str = "course.view_reports") -> Course:
    course = db.get_or_404(Course, course_id)
    require("course.view", course, hide=True)
    require(capability, course)
    return course


def _number(raw: str | None) -> float | None:
    raw = (raw or "").strip().replace(",", ".").rstrip("%")
    if not raw:
        return None
    try:
        return float(Decimal(raw))
    except (InvalidOperation, ValueError):
        raise DomainError(f"“{raw[:20]}” is not a number.", "grade") from None


@bp.get("/<int:course_id>")
@login_required
def course(course_id: int):
    """Every learner × every graded activity, with category grades and the course total."""
    course = _course(course_id)
    page = paginate(learners_statement(course.id), per_page=50)
    book = build_gradebook(course, list(page.items))
    return render_template(
        "gradebook/course.html", course=course, book=book, page=page, rule=RULE_TEXT,
        form=ConfirmForm(), can_override=can(current_user, "course.override_completion", course),
    )  # fmt: skip


def _export_rows(course: Course):
    book = build_gradebook(course, None)
    header = ["Learner", "Email"] + [c.title for c in book.columns]
    header += [f"Category: {c.name}" for c in book.categories] + ["Course total"]
    rows = []
    for row in book.rows:
        cells = [row.cells[c.activity_id].score for c in book.columns]
        cats = [book.category_grades.get(row.user_id, {}).get(c.id) for c in book.categories]
        rows.append([row.name, row.email, *cells, *cats, row.total])
    return header, rows


@bp.get("/<int:course_id>/export.csv")
@login_required
def export_csv(course_id: int):
    """The whole gradebook as CSV (formulas defused)."""
    course = _course(course_id)
    header, rows = _export_rows(course)
    return csv_response(f"gradebook-{course.slug}.csv", header, rows)


@bp.get("/<int:course_id>/export.xlsx")
@login_required
def export_xlsx(course_id: int):
    """The whole gradebook as XLSX."""
    course = _course(course_id)
    header, rows = _export_rows(course)
    formats = {i: "0.0" for i in range(2, len(header))}
    return xlsx_response(f"gradebook-{course.slug}.xlsx", "Gradebook", header, rows, formats)


@bp.post("/<int:course_id>/override")
@login_required
def override(course_id: int):
    """Override one grade (or the course total) with a reason; an empty grade removes it."""
    course = _course(course_id, "course.override_completion")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    learner = db.get_or_404(User, parse_id(request.form.get("user_id", "")) or 0)
    raw_activity = request.form.get("activity_id", "")
    activity = None
    if raw_activity != "total":
        activity = owned_or_404(Activity, parse_id(raw_activity) or 0, course_id=course.id)
    try:
        services.override_grade(course, learner, activity, _number(request.form.get("grade")),
                                request.form.get("reason", ""), current_user)  # fmt: skip
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(f"Grade of {learner.name} saved.", "success")
    return redirect(url_for("gradebook.course", course_id=course.id, page=request.args.get("page")))


@bp.route("/<int:course_id>/setup", methods=["GET", "POST"])
@login_required
def setup(course_id: int):
    """Categories with weights, and which category each graded activity counts in."""
    course = _course(course_id, "course.edit")
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            _apply_setup(course)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash("Gradebook setup saved.", "success")
        return redirect(url_for("gradebook.setup", course_id=course.id))
    book = build_gradebook(course, [])
    return render_template(
        "gradebook/setup.html", course=course, book=book, form=form, rule=RULE_TEXT
    )


def _apply_setup(course: Course) -> None:
    action = "delete" if request.form.get("delete") else request.form.get("action", "")
    categories = {c.id: c for c in course_categories(course.id)}
    if action == "add":
        services.add_category(course, request.form.get("name", ""),
                              _number(request.form.get("weight")) if request.form.get("weight") else 1.0)  # fmt: skip
    elif action == "delete":
        cat = categories.get(parse_id(request.form.get("delete", "")) or 0) or abort(404)
        services.delete_category(cat)
    elif action == "save":
        for cid, cat in categories.items():
            services.update_category(cat, request.form.get(f"name-{cid}", cat.name),
                                     _number(request.form.get(f"weight-{cid}")))  # fmt: skip
        for activity in graded_activities(course.id):
            raw = request.form.get(f"category-{activity.id}")
            if raw is None:
                continue
            target = categories.get(parse_id(raw) or 0) if raw else None
            if raw and target is None:
                raise DomainError("Choose a category of this course.")
            services.set_item_category(activity, target)
    else:
        abort(400)


@bp.get("/<int:course_id>/me")
@login_required
def mine(course_id: int):
    """The learner's own grades with feedback (released grades only)."""
    course = db.get_or_404(Course, course_id)
    if active_enrolment(current_user.id, course.id) is None:
        abort(404)
    book = build_gradebook(course, [current_user.id], learner_view=True)
    return render_template(
        "gradebook/mine.html", course=course, book=book, row=book.rows[0] if book.rows else None,
        rule=RULE_TEXT,
    )  # fmt: skip
