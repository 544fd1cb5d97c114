"""Site administration: organizations, accounts, site settings and the mail outbox."""

from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from lms.admin import queries, services
from lms.admin.forms import ROLE_CHOICES, OrganizationForm, SiteSettingsForm, options
from lms.admin.views import PER_PAGE, bp, list_args, sort_args, sort_url_factory
from lms.errors import DomainError
from lms.extensions import db
from lms.models import Organization, OutboundMail, User
from lms.permissions import require
from lms.settings import (
    self_registration_enabled,
    self_registration_org_ids,
    set_self_registration,
)
from lms.urls import parse_id


@bp.route("/site")
@login_required
def site_index():
    """Site admin's overview page with the cluster's figures."""
    require("site.admin")
    return render_template(
        "admin/site_index.html",
        figures=queries.cluster_figures(),
        self_registration=self_registration_enabled(),
    )


# --- organizations -----------------------------------------------------------------------------
@bp.route("/site/organizations")
@login_required
def site_orgs():
    """Site admin's list of member organizations with their member counts."""
    require("site.admin")
    return render_template("admin/site_orgs.html", orgs=queries.organization_rows())


def _save_org(org: Organization | None, form: OrganizationForm):
    """Validate and save; returns the organization or None with errors on ``form``."""
    if not form.validate_on_submit():
        return None
    try:
        saved = services.save_organization(
            org, form.name.data, form.slug.data, form.kind.data, form.description.data
        )
    except DomainError as exc:
        db.session.rollback()
        getattr(form, exc.field or "name").errors.append(exc.message)
        return None
    db.session.commit()
    return saved


@bp.route("/site/organizations/new", methods=["GET", "POST"])
@login_required
def site_org_new():
    """Site admin's page to add a member organization."""
    require("site.admin")
    form = OrganizationForm()
    org = _save_org(None, form)
    if org is not None:
        flash(f"{org.name} was created. Invite its first administrator.", "success")
        return redirect(url_for("admin.org_invitations", slug=org.slug))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/site_org_form.html", form=form, org=None), status


@bp.route("/site/organizations/<int:org_id>/edit", methods=["GET", "POST"])
@login_required
def site_org_edit(org_id: int):
    """Site admin's page to edit a member organization."""
    require("site.admin")
    org = db.get_or_404(Organization, org_id)
    form = OrganizationForm(obj=org)
    saved = _save_org(org, form)
    if saved is not None:
        flash(f"{saved.name} was saved.", "success")
        return redirect(url_for("admin.site_orgs"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/site_org_form.html", form=form, org=org), status


# --- accounts ----------------------------------------------------------------------------------
@bp.route("/site/users")
@login_required
def site_users():
    """Site admin's list of every user of the cluster, filtered, sorted and paged."""
    require("site.admin")
    filters = list_args("q", "org", "role", "status")
    sort, direction = sort_args()
    page = queries.user_page(
        filters["q"],
        filters["org"],
        filters["role"],
        filters["status"],
        sort,
        direction,
        per_page=PER_PAGE,
    )
    return render_template(
        "admin/site_users.html",
        page=page,
        filters=filters,
        orgs=queries.organization_options(),
        roles=ROLE_CHOICES,
        sort=sort,
        direction=direction,
        sort_url=sort_url_factory("admin.site_users"),
    )


@bp.route("/site/invite")
@login_required
def site_invite():
    """People → "Invite someone": invitations belong to an organization, so go to its page."""
    require("site.admin")
    org = queries.organization_by_slug(request.args.get("org", ""))
    if org is None:
        flash("Choose the organization the person will join, then invite them.", "error")
        return redirect(url_for("admin.site_users"))
    return redirect(url_for("admin.org_invitations", slug=org.slug) + "#invite")


@bp.route("/site/users/<int:user_id>/flags", methods=["POST"])
@login_required
def site_user_flag(user_id: int):
    """POST endpoint for a site admin to switch a user's active or site-admin flag."""
    require("site.admin")
    user = db.get_or_404(User, user_id)
    flag = request.form.get("flag", "")
    value = request.form.get("value") == "1"
    try:
        services.set_user_flag(user, flag, value, current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        messages = {
            ("active", True): f"{user.name} can log in again.",
            ("active", False): f"{user.name} was deactivated and can no longer log in.",
            ("is_site_admin", True): f"{user.name} is now a site administrator.",
            ("is_site_admin", False): f"{user.name} is no longer a site administrator.",
        }
        flash(messages[(flag, value)], "success")
    return redirect(_back_to_list())


def _back_to_list() -> str:
    """Return to the list the action was taken from, keeping its filters (same-site only)."""
    target = request.form.get("next", "")
    if target.startswith("/admin/") and not target.startswith("//"):
        return target
    return url_for("admin.site_users")


# --- settings and outbox -----------------------------------------------------------------------
@bp.route("/site/settings", methods=["GET", "POST"])
@login_required
def site_settings():
    """Site admin's page for self-registration settings."""
    require("site.admin")
    orgs = queries.organizations_by_name()
    form = SiteSettingsForm()
    form.organizations.choices = options((o.id, o.name) for o in orgs)
    if request.method == "GET":
        form.self_registration.data = self_registration_enabled()
        form.organizations.data = [str(i) for i in sorted(self_registration_org_ids())]
    if form.validate_on_submit():
        valid = {o.id for o in orgs}
        # An unknown value (not an organization id) is refused, not silently dropped.
        chosen = {parse_id(v) for v in form.organizations.data or []}
        if not chosen <= valid:
            form.organizations.errors.append("Choose only listed organizations.")
        else:
            set_self_registration(bool(form.self_registration.data), chosen)
            db.session.commit()
            flash("Site settings were saved.", "success")
            return redirect(url_for("admin.site_settings"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/site_settings.html", form=form), status


@bp.route("/site/outbox")
@login_required
def site_outbox():
    """Site admin's view of the mails the platform sent, searchable."""
    require("site.admin")
    filters = list_args("q")
    page = queries.outbox_page(filters["q"], per_page=PER_PAGE)
    return render_template("admin/site_outbox.html", page=page, filters=filters)


@bp.route("/site/outbox/<int:mail_id>")
@login_required
def site_outbox_mail(mail_id: int):
    """Site admin's view of one sent mail with its links made clickable."""
    require("site.admin")
    mail = db.get_or_404(OutboundMail, mail_id)
    return render_template("admin/site_outbox_mail.html", mail=mail, body=linkify(mail.body))


URL_RE = re.compile(r"(https?://[^\s<>\"']+)")


def linkify(text: str) -> Markup:
    """Escape a plain-text mail body and make its links clickable (handy for demos)."""
    return Markup(URL_RE.sub(r'<a href="\1">\1</a>', str(escape(text))))
