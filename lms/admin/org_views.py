"""Organization administration: members, departments and invitations."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from lms.admin import queries, services
from lms.admin.forms import ROLE_CHOICES, DepartmentForm, InvitationForm, MemberForm, options
from lms.admin.views import PER_PAGE, bp, list_args, org_or_404, sort_args, sort_url_factory
from lms.auth import services as account_services
from lms.errors import DomainError
from lms.extensions import db
from lms.lookup import owned_or_404
from lms.models import Department, Invitation, Organization, User

NEW_LINK_KEY = "lms.new_invitation"


def _render(template: str, org: Organization, status: int = 200, **context):
    return render_template(
        template, org=org, switch_orgs=queries.viewable_orgs(current_user), **context
    ), status


def _department_form(form_class, org: Organization):
    """A form with a department choice filled with ``org``'s departments."""
    form = form_class()
    form.department.choices = options(
        [("", "No department")] + [(d.id, d.name) for d in queries.departments_of(org)]
    )
    return form


@bp.route("/org")
@login_required
def org_home():
    """The "Organization" nav item: straight to the members when there is one organization."""
    orgs = queries.viewable_orgs(current_user)
    if not orgs:
        if current_user.is_site_admin:
            return redirect(url_for("admin.site_orgs"))
        abort(403)
    if len(orgs) == 1:
        return redirect(url_for("admin.org_members", slug=orgs[0].slug))
    figures = queries.org_figures([o.id for o in orgs])
    return render_template("admin/org_home.html", orgs=orgs, figures=figures)


# --- members -----------------------------------------------------------------------------------
@bp.route("/org/<slug>/members")
@login_required
def org_members(slug: str):
    """Org admin's member list of one organization, filtered, sorted and paged."""
    org = org_or_404(slug, "org.view_people")
    filters = list_args("q", "role", "department", "status")
    sort, direction = sort_args()
    page = queries.member_page(
        org,
        filters["q"],
        filters["role"],
        filters["department"],
        filters["status"],
        sort,
        direction,
        per_page=PER_PAGE,
    )
    return _render(
        "admin/org_members.html",
        org,
        page=page,
        filters=filters,
        roles=ROLE_CHOICES,
        departments=queries.departments_of(org),
        figures=queries.org_figures([org.id])[org.id],
        sort=sort,
        direction=direction,
        sort_url=sort_url_factory("admin.org_members", slug=org.slug),
    )


def _member_or_404(org: Organization, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or org.id not in user.organization_ids():
        abort(404)
    return user


@bp.route("/org/<slug>/members/<int:user_id>", methods=["GET", "POST"])
@login_required
def org_member(slug: str, user_id: int):
    """Org admin's page to change one member's roles and department."""
    org = org_or_404(slug, "org.manage")
    user = _member_or_404(org, user_id)
    form = _department_form(MemberForm, org)
    if request.method == "GET":
        memberships = [m for m in user.memberships if m.organization_id == org.id]
        form.roles.data = [m.role for m in memberships]
        dept = next((m.department_id for m in memberships if m.department_id), None)
        form.department.data = str(dept) if dept else ""
    if form.validate_on_submit():
        try:
            department = services.department_choice(org, form.department.data)
            roles = set(form.roles.data or [])
            services.set_member_roles(
                org, user, roles, department.id if department else None, current_user
            )
        except DomainError as exc:
            db.session.rollback()
            getattr(form, exc.field or "roles").errors.append(exc.message)
        else:
            db.session.commit()
            flash(f"{user.name}'s roles in {org.name} were saved.", "success")
            return redirect(url_for("admin.org_members", slug=org.slug))
    status = 400 if request.method == "POST" else 200
    return _render("admin/org_member.html", org, status, form=form, member=user)


@bp.route("/org/<slug>/members/<int:user_id>/active", methods=["POST"])
@login_required
def org_member_active(slug: str, user_id: int):
    """POST endpoint for an org admin to suspend or reactivate a member."""
    org = org_or_404(slug, "org.manage")
    user = _member_or_404(org, user_id)
    active = request.form.get("value") == "1"
    try:
        services.set_member_active(org, user, active, current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(
            f"{user.name} can log in again."
            if active
            else f"{user.name} was deactivated and can no longer log in.",
            "success",
        )
    return redirect(url_for("admin.org_member", slug=org.slug, user_id=user.id))


# --- departments -------------------------------------------------------------------------------
@bp.route("/org/<slug>/departments", methods=["GET", "POST"])
@login_required
def org_departments(slug: str):
    """Org admin's department list, with the form to add one."""
    org = org_or_404(slug, "org.manage")
    form = DepartmentForm()
    if form.validate_on_submit():
        try:
            department = services.create_department(org, form.name.data)
        except DomainError as exc:
            db.session.rollback()
            form.name.errors.append(exc.message)
        else:
            db.session.commit()
            flash(f"Department {department.name} was created.", "success")
            return redirect(url_for("admin.org_departments", slug=org.slug))
    status = 400 if request.method == "POST" else 200
    return _render(
        "admin/org_departments.html",
        org,
        status,
        form=form,
        departments=queries.department_counts(org),
    )


def _department_or_404(org: Organization, dept_id: int) -> Department:
    return owned_or_404(Department, dept_id, organization_id=org.id)


@bp.route("/org/<slug>/departments/<int:dept_id>", methods=["GET", "POST"])
@login_required
def org_department(slug: str, dept_id: int):
    """Org admin's page to rename one department."""
    org = org_or_404(slug, "org.manage")
    department = _department_or_404(org, dept_id)
    form = DepartmentForm(obj=department)
    if form.validate_on_submit():
        old = department.name
        try:
            services.rename_department(department, form.name.data)
        except DomainError as exc:
            db.session.rollback()
            form.name.errors.append(exc.message)
        else:
            db.session.commit()
            flash(f"Department {old} was renamed to {department.name}.", "success")
            return redirect(url_for("admin.org_departments", slug=org.slug))
    people = queries.department_people(department)
    status = 400 if request.method == "POST" else 200
    return _render(
        "admin/org_department.html", org, status, form=form, department=department, people=people
    )


@bp.route("/org/<slug>/departments/<int:dept_id>/delete", methods=["POST"])
@login_required
def org_department_delete(slug: str, dept_id: int):
    """POST endpoint for an org admin to delete a department, detaching its members."""
    org = org_or_404(slug, "org.manage")
    department = _department_or_404(org, dept_id)
    name = department.name
    detached = services.delete_department(department)
    db.session.commit()
    suffix = f" {detached} people no longer have a department." if detached else ""
    flash(f"Department {name} was deleted.{suffix}", "success")
    return redirect(url_for("admin.org_departments", slug=org.slug))


# --- invitations -------------------------------------------------------------------------------
@bp.route("/org/<slug>/invitations", methods=["GET", "POST"])
@login_required
def org_invitations(slug: str):
    """Org admin's invitation list of one organization, with the form to invite someone."""
    org = org_or_404(slug, "org.manage")
    form = _department_form(InvitationForm, org)
    if form.validate_on_submit():
        try:
            invitation, link = services.send_invitation(
                org, form.email.data, form.role.data, form.department.data, current_user
            )
        except DomainError as exc:
            db.session.rollback()
            getattr(form, exc.field or "email").errors.append(exc.message)
        else:
            db.session.commit()
            # Shown once on the next page; only the hash stays in the database.
            session[NEW_LINK_KEY] = {"email": invitation.email, "link": link}
            flash(f"Invitation sent to {invitation.email}.", "success")
            return redirect(url_for("admin.org_invitations", slug=org.slug))
    filters = list_args("status")
    status = 400 if request.method == "POST" else 200
    return _render(
        "admin/org_invitations.html",
        org,
        status,
        form=form,
        page=queries.invitation_page(org, filters["status"], per_page=PER_PAGE),
        filters=filters,
        new_link=session.pop(NEW_LINK_KEY, None),
        role_labels=dict(ROLE_CHOICES),
    )


@bp.route("/org/<slug>/invitations/<int:invitation_id>/revoke", methods=["POST"])
@login_required
def org_invitation_revoke(slug: str, invitation_id: int):
    """POST endpoint for an org admin to revoke a pending invitation."""
    org = org_or_404(slug, "org.manage")
    invitation = owned_or_404(Invitation, invitation_id, organization_id=org.id)
    try:
        account_services.revoke_invitation(invitation)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(f"The invitation for {invitation.email} was revoked.", "success")
    return redirect(url_for("admin.org_invitations", slug=org.slug))
