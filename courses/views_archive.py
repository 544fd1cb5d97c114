"""Export a course as a .zip and import an archive as a new draft course."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, url_for
from flask_login import login_required
from sqlalchemy import select

from courses.archive import export_course, import_course
from courses.blueprint import bp, course_or_404, form_error, user
from courses.forms import ImportForm
from lms.errors import DomainError
from lms.extensions import db
from lms.models import Organization, Role
from lms.permissions import require


@bp.route("/<slug>/export")
@login_required
def export(slug: str):
    course = course_or_404(slug, "course.manage")
    data = export_course(course)
    return Response(
        data,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{course.slug}.zip"'},
    )


def _import_orgs() -> list[Organization]:
    stmt = select(Organization).order_by(Organization.name)
    if not user().is_site_admin:
        ids = user().organization_ids(Role.TRAINER, Role.ORG_ADMIN) or {-1}
        stmt = stmt.where(Organization.id.in_(ids))
    return list(db.session.scalars(stmt))


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_page():
    require("course.create")
    form = ImportForm()
    form.organization_id.choices = [(o.id, o.name) for o in _import_orgs()]
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
