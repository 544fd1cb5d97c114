"""Export a course as a .zip and import an archive as a new draft course."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_login import login_required

from courses import services
from courses.archive import export_course, import_course
from courses.blueprint import bp, course_or_404, flash_error, form_error, user
from courses.forms import ConfirmForm, ImportForm
from lms.errors import DomainError
from lms.extensions import db
from lms.forms import options
from lms.models import Organization
from lms.permissions import require


@bp.route("/<slug>/export")
@login_required
def export(slug: str):
    """Course manager's download of the course as a ZIP archive."""
    course = course_or_404(slug, "course.manage")
    data = export_course(course)
    return Response(
        data,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{course.slug}.zip"'},
    )


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_page():
    """Trainer's page to import a course archive."""
    require("course.create")
    form = ImportForm()
    form.organization_id.choices = options(
        (o.id, o.name) for o in services.import_organizations(user())
    )
    if form.validate_on_submit():
        upload = form.archive.data
        if not upload or not getattr(upload, "filename", ""):
            form.archive.errors = ["Choose a course archive (.zip) to import."]
        else:
            org = db.session.get(Organization, form.organization_id.data)
            try:
                course = import_course(upload.read(), org, user())
            except DomainError as exc:
                form_error(form, exc)
                form.archive.errors = [*form.archive.errors, exc.message]
                form.form_errors.clear()
            else:
                db.session.commit()
                flash(
                    f"Imported “{course.title}” as a new draft ({course.slug}). Review it, then "
                    "submit it for sign-off.",
                    "success",
                )
                return redirect(url_for("courses.structure_page", slug=course.slug))
    return render_template("courses/import.html", form=form), (400 if form.errors else 200)


@bp.post("/<slug>/duplicate")
@login_required
def duplicate(slug: str):
    """A new draft copy of the course (through the archive, so the copy is exactly what an
    export and import would give)."""
    course = course_or_404(slug, "course.manage")
    require("course.create")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    orgs = services.import_organizations(user())
    mine = [o for o in orgs if o.id in course.partner_org_ids] or orgs
    try:
        copy = import_course(export_course(course), mine[0] if mine else None, user())
    except DomainError as exc:
        flash_error(exc)
        return redirect(url_for("courses.structure_page", slug=slug))
    db.session.commit()
    flash(f"Copied as a new draft: “{copy.title}” ({copy.slug}).", "success")
    return redirect(url_for("courses.structure_page", slug=copy.slug))
