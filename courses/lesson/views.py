"""Authoring pages of a lesson: revision history, a revision, the diff of two, restore."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from courses.lesson.diff import diff_lines
from courses.lesson.models import Lesson
from courses.lesson.services import (
    MAX_BODY,
    get_revision,
    restore_revision,
    revision_history,
)
from lms.domain.models import Course
from lms.extensions import db
from lms.markup import render_markdown
from lms.permissions import require
from lms.urls import parse_id

bp = Blueprint("lesson", __name__, url_prefix="/lesson")


def _lesson_for_author(activity_id: int) -> Lesson:
    lesson = db.get_or_404(Lesson, activity_id)
    # Revisions are authoring material: people without authoring access must not learn they exist.
    require("course.manage", lesson.course, hide=True)
    return lesson


@bp.post("/preview/<int:course_id>")
@login_required
def preview(course_id: int):
    """The lesson editor's preview: Markdown rendered through the one sanitizer, as learners
    will see it (an HTML fragment for the editor's script)."""
    course = db.get_or_404(Course, course_id)
    require("course.edit", course, hide=True)
    body = request.form.get("body", "")[:MAX_BODY]
    return Response(str(render_markdown(body)), mimetype="text/html")


@bp.get("/<int:activity_id>/revisions")
@login_required
def revisions(activity_id: int):
    """Trainer's revision history of a lesson."""
    lesson = _lesson_for_author(activity_id)
    return render_template(
        "lesson/revisions.html", lesson=lesson, revisions=revision_history(lesson)
    )


@bp.get("/<int:activity_id>/revisions/<int:number>")
@login_required
def revision(activity_id: int, number: int):
    """Trainer's view of one lesson revision."""
    lesson = _lesson_for_author(activity_id)
    rev = get_revision(lesson, number) or abort(404)
    latest = lesson.revisions[-1].number if lesson.revisions else None
    return render_template("lesson/revision.html", lesson=lesson, revision=rev, latest=latest)


def _number_arg(name: str) -> int | None:
    return parse_id(request.args.get(name, ""))


@bp.get("/<int:activity_id>/diff")
@login_required
def diff(activity_id: int):
    """Trainer's line diff between two lesson revisions."""
    lesson = _lesson_for_author(activity_id)
    numbers = [r.number for r in lesson.revisions]
    old_n, new_n = _number_arg("from"), _number_arg("to")
    if new_n is None and numbers:
        new_n = numbers[-1]
    if old_n is None and new_n is not None:
        old_n = max((n for n in numbers if n < new_n), default=new_n)
    old = get_revision(lesson, old_n) if old_n is not None else None
    new = get_revision(lesson, new_n) if new_n is not None else None
    if old is None or new is None:
        flash("Choose two revisions that exist to compare them.", "error")
        return redirect(url_for("lesson.revisions", activity_id=lesson.id))
    result = diff_lines(old.body, new.body)
    return render_template(
        "lesson/diff.html", lesson=lesson, old=old, new=new, diff=result, numbers=numbers
    )


@bp.post("/<int:activity_id>/revisions/<int:number>/restore")
@login_required
def restore(activity_id: int, number: int):
    """POST endpoint for trainers to restore an old lesson revision."""
    lesson = db.get_or_404(Lesson, activity_id)
    require("course.manage", lesson.course, hide=True)
    require("course.edit", lesson.course)
    if get_revision(lesson, number) is None:
        abort(404)
    new = restore_revision(lesson, number, current_user)
    db.session.commit()
    flash(f"Revision {number} restored as revision {new.number}.", "success")
    return redirect(url_for("lesson.revisions", activity_id=lesson.id))
