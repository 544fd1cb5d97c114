"""The API tokens page for HR managers and org admins: create (shown once), list, revoke."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from lms.api.models import ApiToken
from lms.api.tokens import create_token, organization_tokens, revoke_token
from lms.errors import DomainError
from lms.extensions import db
from lms.lookup import owned_or_404
from lms.models import Organization
from lms.permissions import organizations_where, require

bp = Blueprint("api_tokens", __name__, url_prefix="/api-tokens")


class TokenForm(FlaskForm):
    """Org admin's form to create a named API token."""

    name = StringField(
        "Token name",
        description="Which system will use it, e.g. “Workday sync”. You can revoke it at any time.",
        validators=[
            DataRequired("Enter a name that says which system uses the token."),
            Length(max=100, message="Keep the name under 100 characters."),
        ],
    )


class RevokeTokenForm(FlaskForm):
    """CSRF-only form behind the revoke button."""

    pass


def manageable_orgs() -> list[Organization]:
    """Organizations whose API tokens the current user may manage."""
    return organizations_where(current_user, "org.manage_tokens")


@bp.route("/")
@login_required
def index():
    """Entry page of API tokens: goes to the one organization or lists several."""
    orgs = manageable_orgs()
    if not orgs:
        abort(403)
    if len(orgs) == 1:
        return redirect(url_for(".org_tokens", org_id=orgs[0].id))
    return render_template("tokens/choose.html", orgs=orgs)


def _render(org: Organization, form: TokenForm, secret: str | None = None, status: int = 200):
    response = render_template(
        "tokens/index.html",
        org=org,
        form=form,
        tokens=organization_tokens(org),
        secret=secret,
        revoke_form=RevokeTokenForm(),
    )
    # The secret is on this page only once: never cache it.
    return response, status, {"Cache-Control": "no-store"}


@bp.route("/<int:org_id>", methods=["GET", "POST"])
@login_required
def org_tokens(org_id: int):
    """Org admin's API token list of one organization, with the form to create one."""
    org = db.get_or_404(Organization, org_id)
    require("org.manage_tokens", org, hide=True)
    form = TokenForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                token, secret = create_token(org, form.name.data, current_user)
            except DomainError as exc:
                form.name.errors = [*form.name.errors, exc.message]
            else:
                db.session.commit()
                return _render(org, TokenForm(formdata=None), secret=secret, status=201)
        return _render(org, form, status=400)
    return _render(org, form)


@bp.route("/<int:org_id>/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(org_id: int, token_id: int):
    """POST endpoint for an org admin to revoke an API token."""
    org = db.get_or_404(Organization, org_id)
    require("org.manage_tokens", org, hide=True)
    token = owned_or_404(ApiToken, token_id, organization_id=org.id)
    if not RevokeTokenForm().validate_on_submit():
        abort(400)
    try:
        revoke_token(token, current_user)
    except DomainError as exc:
        flash(exc.message, "warning")
    else:
        db.session.commit()
        flash(f"Token “{token.name}” revoked: systems using it are refused from now on.", "success")
    return redirect(url_for(".org_tokens", org_id=org.id))
