"""The ``courses`` blueprint object and helpers its view modules share."""

from __future__ import annotations

from flask import Blueprint, abort, flash
from flask_login import current_user
from wtforms import Form

from courses.catalog import load_course
from lms.domain.models import Activity, Course, Module
from lms.errors import DomainError
from lms.extensions import db
from lms.lookup import owned_or_404
from lms.permissions import require

bp = Blueprint("courses", __name__, url_prefix="/courses", static_folder="static")


def course_or_404(slug: str, capability: str = "course.view") -> Course:
    """The course, if it exists and the user holds ``capability`` on it; else 404 (or 403 when
    the user may see the course but not do this)."""
    course = load_course(slug)
    if course is None:
        abort(404)
    require("course.view", course, hide=True)
    if capability != "course.view":
        require(capability, course)
    return course


def activity_or_404(course: Course, activity_id: int) -> Activity:
    """Activity of this course, or 404."""
    return owned_or_404(Activity, activity_id, course_id=course.id)


def module_or_404(course: Course, module_id: int) -> Module:
    """Module of this course, or 404."""
    return owned_or_404(Module, module_id, course_id=course.id)


def form_error(form: Form, exc: DomainError) -> None:
    """Show a domain error on its field when the form has it, else in the error summary."""
    if exc.field and exc.field in form:
        form[exc.field].errors = [*form[exc.field].errors, exc.message]
    else:
        form.form_errors.append(exc.message)
        # error_summary lists form.errors, which keys form-level errors under None
    db.session.rollback()


def flash_error(exc: DomainError) -> None:
    """Roll back and show a refused action's message to the user."""
    db.session.rollback()
    flash(exc.message, "error")


def user():
    """The signed-in user as a real User object."""
    return current_user._get_current_object()
