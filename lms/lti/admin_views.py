"""Registering platforms: site admins for any organization, org admins for their own."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from lms.errors import DomainError
from lms.extensions import db
from lms.forms import options
from lms.models import Organization
from lms.permissions import can, organizations_where

from .models import LtiPlatform
from .registration import issue_registration_token, platforms_of, register_platform

bp = Blueprint("lti_admin", __name__, url_prefix="/lti/platforms")
URL_SESSION = "lti_registration_url"


class PlatformForm(FlaskForm):
    """Org admin's form to register an LTI platform by hand."""

    organization_id = SelectField(
        "Organization",
        coerce=int,
        description="Its people launched from the platform become this organization's learners.",
    )
    name = StringField(
        "Name", validators=[Length(max=200)], description="e.g. “Moodle, Faculty of Engineering”."
    )
    issuer = StringField(
        "Issuer",
        validators=[DataRequired("Enter the platform's issuer."), Length(max=255)],
        description="Moodle: the site URL. Canvas: https://canvas.instructure.com.",
    )
    client_id = StringField(
        "Client ID", validators=[DataRequired("Enter the client ID."), Length(max=255)]
    )
    deployment_ids = TextAreaField(
        "Deployment IDs",
        validators=[DataRequired("Enter at least one deployment ID.")],
        description="One per line.",
    )
    auth_login_url = StringField(
        "OIDC authentication URL",
        validators=[DataRequired("Enter the authentication URL."), Length(max=500)],
    )
    auth_token_url = StringField(
        "Access token URL",
        validators=[DataRequired("Enter the access token URL."), Length(max=500)],
    )
    key_set_url = StringField(
        "Public keyset URL",
        validators=[DataRequired("Enter the public keyset URL."), Length(max=500)],
    )


class TokenForm(FlaskForm):
    """Org admin's form to create an LTI dynamic-registration link."""

    organization_id = SelectField("Organization", coerce=int)


class DeactivateForm(FlaskForm):
    """CSRF-only form behind the deactivate-platform button."""

    pass


def managed_orgs() -> list[Organization]:
    """Organizations whose LTI platforms the current user may manage."""
    return organizations_where(current_user, "org.manage")


def _render(
    form: PlatformForm, token_form: TokenForm, registration_url: str | None = None, status=200
):
    orgs = managed_orgs()
    platforms = platforms_of([o.id for o in orgs])
    page = render_template(
        "lti/platforms.html",
        form=form,
        token_form=token_form,
        platforms=platforms,
        registration_url=registration_url,
        deactivate_form=DeactivateForm(),
        tool_urls={
            "login": url_for("lti.login", _external=True),
            "launch": url_for("lti.launch", _external=True),
            "jwks": url_for("lti.jwks", _external=True),
        },
    )
    return page, status, {"Cache-Control": "no-store"}


def _forms() -> tuple[PlatformForm, TokenForm]:
    orgs = managed_orgs()
    if not orgs:
        abort(403)
    choices = options((o.id, o.name) for o in orgs)
    form = PlatformForm(prefix="p")
    token_form = TokenForm(prefix="t")
    form.organization_id.choices = token_form.organization_id.choices = choices
    return form, token_form


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    """Registered platforms, the form to register one by hand, and Dynamic Registration URLs."""
    form, token_form = _forms()
    if request.method == "POST":
        action = request.form.get("action")
        if action == "register":
            return _register(form, token_form)
        if action == "token":
            return _issue_token(form, token_form)
        abort(400)
    return _render(form, token_form, registration_url=session.pop(URL_SESSION, None))


def _register(form, token_form):
    """Register a platform by hand from the posted form (a refusal: the page again, 400)."""
    if not form.validate_on_submit():
        return _render(form, token_form, status=400)
    org = db.session.get(Organization, form.organization_id.data)
    try:
        platform = register_platform(
            org,
            current_user,
            name=form.name.data,
            issuer=form.issuer.data,
            client_id=form.client_id.data,
            deployment_ids=form.deployment_ids.data.splitlines(),
            auth_login_url=form.auth_login_url.data,
            auth_token_url=form.auth_token_url.data,
            key_set_url=form.key_set_url.data,
        )
    except DomainError as exc:
        db.session.rollback()
        form.issuer.errors.append(exc.message)
        return _render(form, token_form, status=400)
    db.session.commit()
    flash(f"Platform “{platform.name}” registered.", "success")
    return redirect(url_for(".index"))


def _issue_token(form, token_form):
    """Create a Dynamic Registration URL for an organization, shown once on the next page."""
    if not token_form.validate_on_submit():
        return _render(form, token_form, status=400)
    org = db.session.get(Organization, token_form.organization_id.data)
    token = issue_registration_token(org, current_user)
    db.session.commit()
    # Shown once, on the page the redirect leads to (the session is signed and private).
    session[URL_SESSION] = url_for("lti.dynamic_registration", token=token, _external=True)
    flash(f"Registration URL created for {org.name}: paste it into your platform.", "success")
    return redirect(url_for(".index"))


@bp.post("/<int:platform_id>/deactivate")
@login_required
def deactivate(platform_id: int):
    """Stop accepting launches from a platform (its people and grades stay)."""
    platform = db.get_or_404(LtiPlatform, platform_id)
    if not can(current_user, "org.manage", platform.organization):
        abort(404)
    if DeactivateForm().validate_on_submit():
        platform.active = False
        db.session.commit()
        flash(f"Platform “{platform.name}” no longer launches EduCluster.", "success")
    return redirect(url_for(".index"))
