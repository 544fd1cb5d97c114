"""Authoring of activities: create and edit (common fields + the type's own form), order,
move between modules, restrict access."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from courses import structure
from courses.blueprint import (
    activity_or_404,
    bp,
    course_or_404,
    flash_error,
    form_error,
    module_or_404,
    user,
)
from courses.forms import RULE_LABELS, ActivityForm, ConditionForm, ConfirmForm, MoveActivityForm
from lms.domain.models import Module
from lms.errors import DomainError
from lms.extensions import db
from lms.forms import options
from lms.plugins import ActivityType, activity_registry
from lms.urls import parse_id

TYPE_FORM_PREFIX = "type"


def _type_form(atype: ActivityType, course, module, activity=None):
    """The type's own FlaskForm (or None), prefixed so its names never clash with ours. The
    outer form carries the CSRF token, so the inner one does not need its own."""
    if atype.form is None:
        return None
    kwargs = {"prefix": TYPE_FORM_PREFIX, "meta": {"csrf": False}}
    if request.method == "GET" and activity is not None:
        kwargs["data"] = atype.form_data(activity)
    type_form = atype.form(**kwargs)
    atype.prepare_form(type_form, course, activity, module)
    return type_form


def _common_form(atype: ActivityType, activity=None) -> ActivityForm:
    form = ActivityForm(obj=activity) if request.method == "GET" else ActivityForm()
    labels = {**RULE_LABELS, **atype.rule_labels}
    form.completion_rule.choices = options((r, labels.get(r, r)) for r in atype.completion_rules)
    if request.method == "GET" and activity is None:
        default = "passed" if "passed" in atype.completion_rules else atype.completion_rules[-1]
        form.completion_rule.data = default
    return form


def _data(form: ActivityForm) -> structure.ActivityData:
    return structure.ActivityData(
        title=form.title.data or "",
        completion_rule=form.completion_rule.data,
        pass_mark=float(form.pass_mark.data) if form.pass_mark.data is not None else None,
        weight=float(form.weight.data),
        required=bool(form.required.data),
        available_from=form.available_from.data,
    )


def _validate_both(form: ActivityForm, type_form) -> bool:
    """Validate the common and the type's fields together, so every error shows at once."""
    ok = form.validate_on_submit()
    if request.method == "POST" and type_form is not None:
        ok = type_form.validate() and ok
    return ok


def _show_error(form, type_form, exc: DomainError) -> None:
    if type_form is not None and exc.field and exc.field in type_form:
        type_form[exc.field].errors = [*type_form[exc.field].errors, exc.message]
        db.session.rollback()
    else:
        form_error(form, exc)


@bp.route("/<slug>/modules/<int:module_id>/activities/new", methods=["GET", "POST"])
@login_required
def new_activity(slug: str, module_id: int):
    """Trainer's page to add an activity of a chosen type to a module."""
    course = course_or_404(slug, "course.edit")
    module = module_or_404(course, module_id)
    type_key = request.values.get("type", "")
    atype = activity_registry().get(type_key)
    if atype is None:
        return render_template(
            "courses/activity_type_choice.html",
            course=course,
            module=module,
            types=list(activity_registry()),
        )
    form, type_form = _common_form(atype), _type_form(atype, course, module)
    if _validate_both(form, type_form):
        try:
            activity = structure.add_activity(
                module, atype.key, _data(form), user(), type_form.data if type_form else None
            )
        except DomainError as exc:
            _show_error(form, type_form, exc)
        else:
            db.session.commit()
            flash(f"{atype.label} “{activity.title}” added.", "success")
            return redirect(url_for("courses.edit_activity", slug=slug, activity_id=activity.id))
    return _render_form(course, module, None, atype, form, type_form)


@bp.route("/<slug>/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@login_required
def edit_activity(slug: str, activity_id: int):
    """Trainer's page to edit an activity's settings and content."""
    course = course_or_404(slug, "course.edit")
    activity = activity_or_404(course, activity_id)
    atype = structure.get_type(activity.type)
    form = _common_form(atype, activity)
    type_form = _type_form(atype, course, activity.module, activity)
    if _validate_both(form, type_form):
        try:
            structure.update_activity(
                activity, _data(form), user(), type_form.data if type_form else None
            )
        except DomainError as exc:
            _show_error(form, type_form, exc)
        else:
            db.session.commit()
            flash(f"“{activity.title}” saved.", "success")
            return redirect(url_for("courses.edit_activity", slug=slug, activity_id=activity.id))
    return _render_form(
        course, activity.module, activity, atype, form, type_form,
        move_form=_move_form(course, activity), cond_form=_condition_form(course, activity),
        confirm=ConfirmForm(), author_links=atype.author_links(activity),
    )  # fmt: skip


def _render_form(course, module, activity, atype: ActivityType, form, type_form, **extra):
    """The activity form page (new or edit), 400 when either form has errors."""
    has_errors = form.errors or (type_form is not None and type_form.errors)
    return render_template(
        "courses/activity_form.html", course=course, module=module, activity=activity,
        atype=atype, form=form, type_form=type_form, **extra,
    ), (400 if has_errors else 200)  # fmt: skip


def _move_form(course, activity) -> MoveActivityForm:
    """The form to move an activity to another module of its course."""
    move_form = MoveActivityForm(module_id=activity.module_id)
    move_form.module_id.choices = options((m.id, m.title) for m in course.modules)
    return move_form


def _condition_form(course, activity) -> ConditionForm:
    """The form to make an activity wait for another activity of the course."""
    cond_form = ConditionForm()
    cond_form.required_activity_id.choices = options(
        (a.id, f"{m.title} › {a.title}")
        for m in course.modules
        for a in m.activities
        if a.id != activity.id
    )
    return cond_form


def _checked() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


@bp.post("/<slug>/activities/<int:activity_id>/move")
@login_required
def move_activity(slug: str, activity_id: int):
    """POST endpoint for trainers to move an activity up, down or to another module."""
    course = course_or_404(slug, "course.edit")
    activity = activity_or_404(course, activity_id)
    _checked()
    if request.form.get("module_id"):
        target = db.session.get(Module, parse_id(request.form.get("module_id")) or 0)
        if target is None:
            abort(404)
        # Refused with a 400 page (DomainError handler) rather than a redirect: nothing moved.
        structure.move_activity_to_module(activity, target)
        flash(f"“{activity.title}” is now in the module “{target.title}”.", "success")
    else:
        try:
            structure.move_activity(activity, request.form.get("direction", ""))
        except DomainError as exc:
            flash_error(exc)
            return redirect(url_for("courses.structure_page", slug=slug))
    db.session.commit()
    return redirect(url_for("courses.structure_page", slug=slug) + f"#activity-{activity.id}")


@bp.post("/<slug>/activities/<int:activity_id>/delete")
@login_required
def delete_activity(slug: str, activity_id: int):
    """POST endpoint for trainers to delete an activity."""
    course = course_or_404(slug, "course.edit")
    activity = activity_or_404(course, activity_id)
    _checked()
    title = activity.title
    structure.delete_activity(activity)
    db.session.commit()
    flash(f"“{title}” was deleted.", "success")
    return redirect(url_for("courses.structure_page", slug=slug))


@bp.post("/<slug>/activities/<int:activity_id>/conditions")
@login_required
def add_condition(slug: str, activity_id: int):
    """POST endpoint for trainers to add an access condition to an activity."""
    course = course_or_404(slug, "course.edit")
    activity = activity_or_404(course, activity_id)
    form = ConditionForm()
    form.required_activity_id.choices = options(
        (a.id, a.title) for m in course.modules for a in m.activities if a.id != activity.id
    )
    back = url_for("courses.edit_activity", slug=slug, activity_id=activity.id) + "#access"
    if not form.validate_on_submit():
        flash("Choose an activity of this course and, for a grade, a percentage.", "error")
        return redirect(back)
    required = activity_or_404(course, form.required_activity_id.data)
    try:
        structure.add_condition(
            activity,
            form.kind.data,
            required,
            float(form.min_grade.data) if form.min_grade.data is not None else None,
        )
    except DomainError as exc:
        flash_error(exc)
        return redirect(back)
    db.session.commit()
    flash("Access condition added.", "success")
    return redirect(back)


@bp.post("/<slug>/activities/<int:activity_id>/conditions/<int:condition_id>/delete")
@login_required
def remove_condition(slug: str, activity_id: int, condition_id: int):
    """POST endpoint for trainers to remove an access condition."""
    course = course_or_404(slug, "course.edit")
    activity = activity_or_404(course, activity_id)
    _checked()
    try:
        structure.remove_condition(activity, condition_id)
    except DomainError as exc:
        flash_error(exc)
    else:
        db.session.commit()
        flash("Access condition removed.", "success")
    return redirect(
        url_for("courses.edit_activity", slug=slug, activity_id=activity.id) + "#access"
    )
