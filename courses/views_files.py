"""Course files: upload, list with Markdown snippets, serve safely, delete."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_login import login_required

from courses.attachments import add_attachment, delete_attachment, is_image, list_attachments
from courses.blueprint import bp, course_or_404, form_error, user
from courses.forms import ConfirmForm, UploadForm
from lms.domain.models import Attachment
from lms.errors import DomainError
from lms.extensions import db
from lms.lookup import owned_or_404
from lms.permissions import require


def file_url(course, attachment) -> str:
    """URL of a course file."""
    return url_for(
        "courses.file", slug=course.slug, attachment_id=attachment.id, name=attachment.filename
    )


@bp.route("/<slug>/files", methods=["GET", "POST"])
@login_required
def files(slug: str):
    """Trainer's file list of a course, with the upload form."""
    course = course_or_404(slug, "course.manage")
    form = UploadForm()
    if form.is_submitted():
        require("course.edit", course)
    if form.validate_on_submit():
        upload = form.file.data
        if not upload or not getattr(upload, "filename", ""):
            form.file.errors = ["Choose a file to upload."]
        else:
            try:
                attachment = add_attachment(course, upload.read(), upload.filename, user())
            except DomainError as exc:
                form_error(form, exc)
            else:
                db.session.commit()
                flash(f"“{attachment.filename}” uploaded.", "success")
                return redirect(url_for("courses.files", slug=slug))
    attachments = list_attachments(course.id)
    return render_template(
        "courses/files.html",
        course=course,
        form=form,
        attachments=attachments,
        urls={a.id: file_url(course, a) for a in attachments},
        is_image=is_image,
        confirm=ConfirmForm(),
    ), (400 if form.errors else 200)


@bp.route("/<slug>/files/<int:attachment_id>/<name>")
@login_required
def file(slug: str, attachment_id: int, name: str):
    """Download of a course file (images inline) for the course's readers."""
    course = course_or_404(slug)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.course_id != course.id or attachment.filename != name:
        abort(404)
    disposition = "inline" if is_image(attachment) else "attachment"
    response = Response(attachment.data, mimetype=attachment.content_type)
    if attachment.content_type.startswith("text/"):
        response.headers["Content-Type"] = f"{attachment.content_type}; charset=utf-8"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{attachment.filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Even if a browser rendered it, the file runs nothing and frames nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.set_etag(attachment.sha256)
    return response


@bp.post("/<slug>/files/<int:attachment_id>/delete")
@login_required
def delete_file(slug: str, attachment_id: int):
    """POST endpoint for trainers to delete a course file."""
    course = course_or_404(slug, "course.edit")
    attachment = owned_or_404(Attachment, attachment_id, course_id=course.id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = attachment.filename
    delete_attachment(attachment)
    db.session.commit()
    flash(f"“{name}” deleted. Lessons that showed it now show a broken link.", "warning")
    return redirect(url_for("courses.files", slug=slug))


@bp.route("/<slug>/cover")
@login_required
def cover(slug: str):
    """The course's cover image (catalog cards link here; no id needed)."""
    course = course_or_404(slug)
    if course.cover_attachment_id is None:
        abort(404)
    attachment = db.session.get(Attachment, course.cover_attachment_id)
    if attachment is None:
        abort(404)
    return file(slug, attachment.id, attachment.filename)
