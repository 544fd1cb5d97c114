"""HR pages for programs: list, create, edit, archive, assign to employees/department/everyone."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from wtforms import (
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional

from lms.errors import DomainError, InvalidFields
from lms.extensions import db
from lms.forms import options
from lms.hr import queries
from lms.hr.blueprint import bp
from lms.hr.views import _switcher, org_or_404
from lms.lookup import owned_or_404
from lms.models import Department, Organization
from lms.permissions import can, require
from lms.progress import programs as svc
from lms.progress.models import PROGRAM_PURPOSE_LABELS, Program, ProgramCourse
from lms.timeutil import utcnow
from lms.urls import parse_id


class ProgramForm(FlaskForm):
    """HR's form to create or edit a training program."""

    name = StringField("Name", description="For example “Digital Quality Retraining 2026”.")
    purpose = SelectField(
        "Purpose", choices=options((k.value, v) for k, v in PROGRAM_PURPOSE_LABELS.items())
    )
    description = TextAreaField("Description", description="What the program is for (Markdown).")
    completion_mode = RadioField(
        "Completed when",
        choices=options([("all", "All its courses are completed"), ("n_of", "A number of its courses are completed")]),
        default="all",
    )  # fmt: skip
    completion_count = IntegerField("Number of courses", validators=[Optional()])
    due_mode = RadioField(
        "Due date",
        choices=options(
            [("fixed", "A fixed date"), ("relative", "A number of days after assignment")]
        ),
        default="fixed",
    )
    due_date = DateField("Date", validators=[Optional()])
    due_days = IntegerField("Days after assignment", validators=[Optional()])
    validity_months = IntegerField(
        "Validity in months (optional)",
        validators=[Optional()],
        description="Leave empty if it never expires. When it expires the program is assigned "
        "again (re-certification).",
    )


class AssignForm(FlaskForm):
    """HR's form to assign a program to employees, a department or everyone."""

    target = RadioField(
        "Assign to",
        choices=options(
            [
                ("employees", "Chosen employees"),
                ("department", "A department"),
                ("everyone", "Every employee of the organization"),
            ]
        ),  # fmt: skip
        default="employees",
    )
    # Choices are checked by the service (with a clear message), not by WTForms.
    user_ids = SelectMultipleField(
        "Employees", coerce=int, validators=[Optional()], validate_choice=False
    )
    department = SelectField(
        "Department", coerce=int, validators=[Optional()], validate_choice=False
    )
    due_date = DateField(
        "Due date for these employees (optional)",
        validators=[Optional()],
        description="Leave empty to use the program's due date.",
    )


def _program_or_404(org: Organization, program_id: int) -> Program:
    return owned_or_404(
        Program,
        program_id,
        options=[selectinload(Program.courses).selectinload(ProgramCourse.course)],
        organization_id=org.id,
    )


def _course_choices(org: Organization):
    return db.session.scalars(svc.assignable_courses(org)).all()


def _selected_courses() -> list[int]:
    """Chosen course ids in the order the author gave (``position-<id>``, then list order)."""
    chosen = [i for i in map(parse_id, request.form.getlist("course_ids")) if i is not None]

    def position(pair):
        """Sort key of a course in the program: its given position, else its form order."""
        index, course_id = pair
        given = parse_id(request.form.get(f"position-{course_id}", "").strip())
        return (given if given is not None else 10_000 + index, index)

    return [cid for _, cid in sorted(enumerate(chosen), key=position)]


def _data(form: ProgramForm, course_ids: list[int]) -> svc.ProgramData:
    return svc.ProgramData(
        name=form.name.data or "",
        purpose=form.purpose.data or "",
        description=form.description.data or "",
        course_ids=course_ids,
        completion_mode=form.completion_mode.data or "all",
        completion_count=form.completion_count.data,
        due_mode=form.due_mode.data or "fixed",
        due_date=form.due_date.data,
        due_days=form.due_days.data,
        validity_months=form.validity_months.data,
    )


def _form_error(form, exc: DomainError) -> None:
    """Show ``exc`` (every one of them for :class:`InvalidFields`) on the form's fields."""
    for error in exc.errors if isinstance(exc, InvalidFields) else [exc]:
        field = getattr(form, error.field, None) if error.field else None
        if error.field == "course_ids":
            form.course_error = error.message
        if field is not None:
            if error.message not in (field.errors or []):
                field.errors = list(field.errors or []) + [error.message]
        elif error.message not in form.form_errors:
            form.form_errors.append(error.message)


def _add_service_problems(form: ProgramForm, org: Organization, course_ids, program=None):
    """After a failed WTForms check, also the service's problems with the other fields, so
    the author sees every mistake in one go."""
    kept = program.due_date.date() if program is not None and program.due_date else None
    problems, _ = svc.program_problems(_data(form, course_ids), org, utcnow().date(), kept)
    fresh = [p for p in problems if not (p.field and p.field in form and form[p.field].errors)]
    if fresh:
        _form_error(form, InvalidFields(fresh))


def _render_program_form(org, form, program, selected, positions, status=200):
    return (
        render_template(
            "hr/program_form.html",
            org=org,
            orgs=_switcher(org),
            form=form,
            program=program,
            courses=_course_choices(org),
            selected=selected,
            positions=positions,
            course_error=getattr(form, "course_error", None),
        ),
        status,
    )


@bp.route("/hr/<org>/programs")
@login_required
def programs(org: str):
    """HR's list of the organization's training programs."""
    organization = org_or_404(org)
    now = utcnow()
    return render_template(
        "hr/programs.html",
        org=organization,
        orgs=_switcher(organization),
        programs=queries.program_figures(organization.id, now),
        can_manage=can(current_user, "org.manage_programs", organization),
    )


@bp.route("/hr/<org>/programs/new", methods=["GET", "POST"])
@login_required
def program_new(org: str):
    """HR's page to create a training program."""
    organization = org_or_404(org)
    require("org.manage_programs", organization)
    form = ProgramForm()
    if request.method == "POST" and form.validate():
        course_ids = _selected_courses()
        try:
            program = svc.create_program(organization, _data(form, course_ids), current_user)
        except DomainError as exc:
            db.session.rollback()
            _form_error(form, exc)
            positions = {cid: i + 1 for i, cid in enumerate(course_ids)}
            return _render_program_form(organization, form, None, course_ids, positions, 400)
        db.session.commit()
        flash(f"Program “{program.name}” created. Now assign it to employees.", "success")
        return redirect(url_for("hr.program", org=org, program_id=program.id))
    if request.method == "POST":
        course_ids = _selected_courses()
        positions = {cid: i + 1 for i, cid in enumerate(course_ids)}
        _add_service_problems(form, organization, course_ids)
        return _render_program_form(organization, form, None, course_ids, positions, 400)
    return _render_program_form(organization, form, None, [], {})


@bp.route("/hr/<org>/programs/<int:program_id>/edit", methods=["GET", "POST"])
@login_required
def program_edit(org: str, program_id: int):
    """HR's page to edit a training program and its courses."""
    organization = org_or_404(org)
    require("org.manage_programs", organization)
    program = _program_or_404(organization, program_id)
    if request.method == "GET":
        form = ProgramForm(
            obj=program,
            due_date=program.due_date.date() if program.due_date else None,
        )
        selected = [pc.course_id for pc in program.courses]
        return _render_program_form(
            organization, form, program, selected, {c: i + 1 for i, c in enumerate(selected)}
        )
    form = ProgramForm()
    course_ids = _selected_courses()
    positions = {cid: i + 1 for i, cid in enumerate(course_ids)}
    if not form.validate():
        _add_service_problems(form, organization, course_ids, program)
        return _render_program_form(organization, form, program, course_ids, positions, 400)
    try:
        svc.update_program(program, _data(form, course_ids))
    except DomainError as exc:
        db.session.rollback()
        program = _program_or_404(organization, program_id)
        _form_error(form, exc)
        return _render_program_form(organization, form, program, course_ids, positions, 400)
    db.session.commit()
    flash("Program saved.", "success")
    return redirect(url_for("hr.program", org=org, program_id=program.id))


@bp.route("/hr/<org>/programs/<int:program_id>/archive", methods=["POST"])
@login_required
def program_archive(org: str, program_id: int):
    """POST endpoint for HR to archive or restore a program."""
    organization = org_or_404(org)
    require("org.manage_programs", organization)
    program = _program_or_404(organization, program_id)
    program.archived = request.form.get("restore") != "1"
    db.session.commit()
    flash(f"Program {'archived' if program.archived else 'restored'}.", "success")
    return redirect(url_for("hr.program", org=org, program_id=program.id))


def _assign_form(organization: Organization) -> AssignForm:
    form = AssignForm()
    learners = queries.org_learners(organization.id)
    form.user_ids.choices = options(
        (uid, f"{name} ({dept})" if dept else name) for uid, name, dept in learners
    )
    form.department.choices = options(
        (d.id, d.name) for d in queries.org_departments(organization.id)
    )
    return form


@bp.route("/hr/<org>/programs/<int:program_id>", methods=["GET", "POST"])
@login_required
def program(org: str, program_id: int):
    """HR's page of one program: its assignments and the form to assign it."""
    organization = org_or_404(org)
    program = _program_or_404(organization, program_id)
    manage = can(current_user, "org.manage_programs", organization)
    form = _assign_form(organization) if manage else None
    status = 200
    if request.method == "POST":
        require("org.manage_programs", organization)
        result, error = _assign(program, form)
        if error is None:
            db.session.commit()
            flash(_assigned_message(result), "success")
            return redirect(url_for("hr.program", org=org, program_id=program.id))
        db.session.rollback()
        program = _program_or_404(organization, program_id)
        status = 400
    now = utcnow()
    return render_template(
        "hr/program.html",
        org=organization,
        orgs=_switcher(organization),
        program=program,
        figures=queries.program_figure(organization.id, program.id, now),
        form=form,
        can_manage=manage,
        now=now,
    ), status


def _assigned_message(result) -> str:
    """The flash after assigning a program: how many got it, how many already had it."""
    msg = f"Assigned to {result.created} employee{'s' if result.created != 1 else ''}."
    if result.already:
        msg += f" {result.already} already had it."
    return msg


def _assign(program: Program, form: AssignForm):
    """Run the assignment the form asks for: (result, None) or (None, error message on form)."""
    if not form.validate():
        return None, "invalid"
    due = form.due_date.data
    try:
        if form.target.data == "department":
            department = db.session.get(Department, form.department.data or 0)
            if department is None:
                raise DomainError("Choose a department.", field="department")
            result = svc.assign_department(program, department, current_user, due)
        elif form.target.data == "everyone":
            result = svc.assign_everyone(program, current_user, due)
        else:
            result = svc.assign_program(
                program, form.user_ids.data or [], current_user, due_date=due
            )
    except DomainError as exc:
        _form_error(form, exc)
        return None, exc.message
    return result, None
