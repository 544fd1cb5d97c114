"""Site administration of the Jobe API: issue keys (shown once) with an hourly limit, revoke."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from lms.errors import DomainError
from lms.extensions import db
from lms.permissions import require

from . import keys
from .models import JobeApiKey

bp = Blueprint("jobe_admin", __name__, url_prefix="/admin/site/jobe-keys")


class JobeKeyForm(FlaskForm):
    """Site admin's form to issue a named Jobe API key for a CodeRunner site."""

    name = StringField(
        "Key name",
        description="Which CodeRunner site uses it, e.g. “Moodle, Faculty of Engineering”.",
        validators=[
            DataRequired("Enter a name that says which CodeRunner site uses the key."),
            Length(max=100, message="Keep the name under 100 characters."),
        ],
    )
    hourly_limit = IntegerField(
        "Runs per hour",
        default=3600,
        description="Runs this key may start each hour; more are refused until the next hour.",
        validators=[
            InputRequired("Enter how many runs an hour the key may start."),
            NumberRange(1, keys.MAX_HOURLY_LIMIT, "Enter a number from 1 to 1,000,000."),
        ],
    )


class RevokeKeyForm(FlaskForm):
    """CSRF-only form behind the revoke-key button."""

    pass


def _render(form: JobeKeyForm, secret: str | None = None, status: int = 200):
    rows = db.session.scalars(
        select(JobeApiKey).order_by(JobeApiKey.revoked_at.is_not(None), JobeApiKey.id.desc())
    ).all()
    html = render_template(
        "labs/jobe_keys.html",
        form=form,
        keys=rows,
        secret=secret,
        revoke_form=RevokeKeyForm(),
        hour=keys.current_hour(),
        api_url=url_for("jobe.languages", _external=True).rsplit("/languages", 1)[0],
    )
    return html, status, {"Cache-Control": "no-store"}


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    """List the keys and issue a new one."""
    require("site.admin")
    form = JobeKeyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return _render(form, status=400)
        try:
            _, secret = keys.issue_key(form.name.data, form.hourly_limit.data, current_user)
        except DomainError as exc:
            getattr(form, exc.field or "name").errors.append(exc.message)
            db.session.rollback()
            return _render(form, status=400)
        db.session.commit()
        return _render(JobeKeyForm(formdata=None), secret=secret)
    return _render(form)


@bp.post("/<int:key_id>/revoke")
@login_required
def revoke(key_id: int):
    """Revoke a key: CodeRunner sites using it get 403 from now on."""
    require("site.admin")
    if not RevokeKeyForm().validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(url_for(".index"))
    key = db.get_or_404(JobeApiKey, key_id)
    try:
        keys.revoke_key(key)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for(".index"))
    db.session.commit()
    flash(f"Key “{key.name}” revoked.", "success")
    return redirect(url_for(".index"))
