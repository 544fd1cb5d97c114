"""Joining the site: accepting an invitation, or registering (when self-registration is open)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms.auth import services, tokens
from lms.auth.blueprint import bp
from lms.auth.forms import (
    AcceptInvitationForm,
    FinishRegistrationForm,
    InvitationRegisterForm,
    RegisterForm,
)
from lms.auth.mails import mail_registration_link
from lms.auth.sessions import start_session
from lms.auth.views import mail_limit_wait, too_many_mails
from lms.errors import DomainError
from lms.extensions import db
from lms.forms import options
from lms.models import ROLE_LABELS, Role, User
from lms.settings import self_registration_enabled, self_registration_orgs
from lms.timeutil import utcnow


# --- invitations -------------------------------------------------------------------------------
def _invitation_refused(message: str, status: int):
    return render_template("auth/invitation_invalid.html", message=message), status


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str):
    """Accept an invitation: logged in as the invited address, or by creating that account."""
    invite = services.find_invitation(token)
    if invite is None:
        return _invitation_refused(
            "This invitation link is not valid. Check that you copied the whole link from the "
            "mail, or ask the organization's administrator for a new invitation.",
            404,
        )
    problem = services.invitation_problem(invite)
    if problem:
        return _invitation_refused(problem, 410)
    context = {"invite": invite, "role_label": ROLE_LABELS[Role(invite.role)]}
    if current_user.is_authenticated:
        return _accept_invitation_logged_in(invite, context)
    if services.find_user(invite.email) is not None:
        # An account exists: it gains the membership after logging in (a second account for the
        # same address is refused, whatever the form says).
        return render_template(
            "auth/invitation_login.html",
            login_url=url_for("auth.login", next=url_for("auth.invitation", token=token)),
            **context,
        ), (409 if request.method == "POST" else 200)
    return _register_invited(invite, context)


def _accept_invitation_logged_in(invite, context: dict):
    """The invited person, logged in with the invited address, confirms and joins."""
    if current_user.email != invite.email:
        return _invitation_refused(
            f"This invitation is for {invite.email}, but you are logged in as "
            f"{current_user.email}. Log out, then open the link again.",
            403,
        )
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            services.accept_invitation(invite, current_user)
        except DomainError as exc:
            db.session.rollback()
            return _invitation_refused(exc.message, 409)
        db.session.commit()
        role = context["role_label"].lower()
        flash(f"You joined {invite.organization.name} as {role}.", "success")
        return redirect(url_for("main.dashboard"))
    return render_template("auth/invitation_accept.html", form=form, **context)


def _register_invited(invite, context: dict):
    """A newcomer creates the invited account (name and password) and is logged in."""
    form = InvitationRegisterForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.register_invited_user(invite, form.name.data, form.password.data)
        except DomainError as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
            status = 400
        else:
            return _welcome(user, f"Welcome, {user.name}. You joined {invite.organization.name}.")
    elif request.method == "POST":
        status = 400
    return render_template("auth/invitation_register.html", form=form, **context), status


# --- self-registration -------------------------------------------------------------------------
@bp.route("/register", methods=["GET", "POST"])
def register():
    """Open self-registration as a learner, when the site administrator has enabled it.

    The first step mails a link to the address; the account is created when its owner opens it
    and chooses a password. The answer is the same whether the address already has an account
    (that owner gets a mail saying so), so the form does not reveal who has one.
    """
    if not self_registration_enabled():
        return render_template("auth/register_closed.html"), 404
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    orgs = self_registration_orgs()
    form = _register_form(orgs)
    status = 200
    if form.validate_on_submit():
        chosen = next((o for o in orgs if o.slug == form.organization.data), None)
        email = User.normalise_email(form.email.data)
        if orgs and chosen is None:
            form.organization.errors.append("Choose one of the listed organizations.")
            status = 400
        elif wait := mail_limit_wait("register", email):
            db.session.commit()
            too_many_mails(form, wait)
            status = 429
        else:
            mail_registration_link(email, form.name.data.strip(), chosen.slug if chosen else "")
            db.session.commit()
            return render_template("auth/register_sent.html", email=email)
    elif request.method == "POST":
        status = 400
    return render_template("auth/register.html", form=form, orgs=orgs), status


def _register_form(orgs: list) -> RegisterForm:
    """The registration form with the open organizations (preselected when there is one)."""
    form = RegisterForm()
    form.organization.choices = options(
        [("", "Choose an organization")] + [(o.slug, o.name) for o in orgs]
    )
    if request.method == "GET" and len(orgs) == 1:
        form.organization.data = orgs[0].slug
    return form


@bp.route("/register/<token>", methods=["GET", "POST"])
def finish_registration(token: str):
    """Second step of self-registration: the mailed link proves the address; choose a password."""
    if not self_registration_enabled():
        return render_template("auth/register_closed.html"), 404
    data = tokens.load_registration_token(token)
    orgs = self_registration_orgs()
    refusal = _registration_refusal(data, orgs)
    if refusal is not None:
        return refusal
    chosen = next((o for o in orgs if o.slug == data["o"]), None)
    form = FinishRegistrationForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.register_learner(data["n"], data["e"], form.password.data, chosen)
        except DomainError as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
            status = 400
        else:
            return _welcome(user, f"Welcome to EduCluster, {user.name}.")
    elif request.method == "POST":
        status = 400
    return render_template(
        "auth/register_finish.html", form=form, name=data["n"], email=data["e"], org=chosen
    ), status


def _registration_refusal(data: dict | None, orgs: list):
    """Where a registration link that cannot be used any more sends its owner (or None)."""
    if data is None:
        flash("That registration link is not valid any more. Ask for a new one.", "error")
        return redirect(url_for("auth.register"))
    if services.find_user(data["e"]) is not None:
        flash("This address already has an account: log in.", "info")
        return redirect(url_for("auth.login"))
    if data["o"] and not any(o.slug == data["o"] for o in orgs):
        flash("That organization no longer accepts registrations. Choose another one.", "error")
        return redirect(url_for("auth.register"))
    return None


def _welcome(user, message: str):
    """A newly registered person is logged in and lands on their dashboard."""
    user.last_login_at = utcnow()
    start_session(user)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("main.dashboard"))
