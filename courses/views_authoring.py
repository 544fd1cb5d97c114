"""Authoring: create and edit a course, and manage its modules."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from courses import services, structure
from courses.attachments import add_attachment
from courses.blueprint import bp, course_or_404, flash_error, form_error, module_or_404, user
from courses.forms import NOT_PARTNER, ConfirmForm, ModuleForm, course_form_class
from courses.services import CourseData, course_data_from, create_course, set_cover, update_course
from lms.errors import DomainError
from lms.extensions import db
from lms.permissions import require
from lms.plugins import activity_registry


def _data_from_form(form, creating: bool) -> CourseData:
    partners = [
        (int(f.name.removeprefix("partner_")), f.data)
        for f in form.partner_fields()
        if f.data != NOT_PARTNER
    ]
    key = form.enrolment_key.data or None
    if not creating and form.remove_key.data:
        key = ""
    return CourseData(
        title=form.title.data or "",
        slug=(form.slug.data or "").strip().lower(),
        summary=form.summary.data or "",
        level=form.level.data,
        estimated_hours=float(form.estimated_hours.data),
        language=form.language.data,
        visibility=form.visibility.data,
        partners=partners,
        enrolment_key=key,
        completion_mode=form.completion_mode.data or "all",
        completion_count=form.completion_count.data
        if form.completion_mode.data == "n_of"
        else None,
        completion_min_grade=(
            float(form.completion_min_grade.data)
            if form.completion_min_grade.data is not None
            else None
        ),
    )


def _save_cover(form, course) -> None:
    upload = form.cover.data
    if upload and getattr(upload, "filename", ""):
        attachment = add_attachment(
            course, upload.read(), upload.filename, user(), images_only=True
        )
        set_cover(course, attachment.id)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Trainer's page to create a course."""
    require("course.create")
    orgs = services.all_organizations()
    form = course_form_class(orgs)()
    if request.method == "GET":
        own = user().organization_ids("trainer", "org_admin")
        for org in orgs:
            if org.id in own:
                form[f"partner_{org.id}"].data = (
                    "academic_lead" if org.kind == "university" else "industry_partner"
                )
    if form.validate_on_submit():
        try:
            course = create_course(_data_from_form(form, creating=True), user())
            _save_cover(form, course)
        except DomainError as exc:
            form_error(form, exc)
        else:
            db.session.commit()
            flash(f"Course “{course.title}” created as a draft. Add its first module.", "success")
            return redirect(url_for("courses.structure_page", slug=course.slug))
    status = 400 if form.errors else 200
    return render_template("courses/course_form.html", form=form, course=None), status


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str):
    """Trainer's page to edit a course's description, settings and partners."""
    course = course_or_404(slug, "course.edit")
    orgs = services.all_organizations()
    form_cls = course_form_class(orgs)
    form = form_cls(data=course_data_from(course)) if request.method == "GET" else form_cls()
    if request.method == "GET":
        roles = {p.organization_id: p.role for p in course.partners}
        for org in orgs:
            form[f"partner_{org.id}"].data = roles.get(org.id, NOT_PARTNER)
    if form.validate_on_submit():
        try:
            changed = update_course(course, _data_from_form(form, creating=False), user())
            _save_cover(form, course)
        except DomainError as exc:
            form_error(form, exc)
        else:
            db.session.commit()
            if changed and course.signoffs:
                flash(
                    "Saved. Earlier sign-offs were withdrawn: partners must look again.", "warning"
                )
            else:
                flash("Course saved.", "success")
            return redirect(url_for("courses.structure_page", slug=course.slug))
    status = 400 if form.errors else 200
    return render_template("courses/course_form.html", form=form, course=course), status


@bp.route("/<slug>/structure", methods=["GET", "POST"])
@login_required
def structure_page(slug: str):
    """Trainer's page of a course's modules and activities, with the form to add a module."""
    course = course_or_404(slug, "course.manage")
    form = ModuleForm()
    if request.method == "POST":
        require("course.edit", course)
        if form.validate_on_submit():
            try:
                structure.add_module(course, form.title.data, form.summary.data)
            except DomainError as exc:
                form_error(form, exc)
            else:
                db.session.commit()
                flash(f"Module “{form.title.data}” added.", "success")
                return redirect(url_for("courses.structure_page", slug=slug))
    status = 400 if form.errors else 200
    return render_template(
        "courses/structure.html",
        course=course,
        form=form,
        types=list(activity_registry()),
        confirm=ConfirmForm(),
    ), status


@bp.route("/<slug>/modules/<int:module_id>/edit", methods=["GET", "POST"])
@login_required
def edit_module(slug: str, module_id: int):
    """Trainer's page to edit a module."""
    course = course_or_404(slug, "course.edit")
    module = module_or_404(course, module_id)
    form = ModuleForm(obj=module)
    if form.validate_on_submit():
        try:
            structure.update_module(module, form.title.data, form.summary.data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            db.session.commit()
            flash("Module saved.", "success")
            return redirect(url_for("courses.structure_page", slug=slug))
    status = 400 if form.errors else 200
    return render_template(
        "courses/module_form.html", course=course, module=module, form=form
    ), status


@bp.post("/<slug>/modules/<int:module_id>/move")
@login_required
def move_module(slug: str, module_id: int):
    """POST endpoint for trainers to move a module up or down."""
    course = course_or_404(slug, "course.edit")
    module = module_or_404(course, module_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        structure.move_module(module, request.form.get("direction", ""))
    except DomainError as exc:
        flash_error(exc)
    else:
        db.session.commit()
    return redirect(url_for("courses.structure_page", slug=slug) + f"#module-{module.id}")


@bp.post("/<slug>/modules/<int:module_id>/delete")
@login_required
def delete_module(slug: str, module_id: int):
    """POST endpoint for trainers to delete a module."""
    course = course_or_404(slug, "course.edit")
    module = module_or_404(course, module_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    title = module.title
    structure.delete_module(module)
    db.session.commit()
    flash(f"Module “{title}” and its activities were deleted.", "success")
    return redirect(url_for("courses.structure_page", slug=slug))
