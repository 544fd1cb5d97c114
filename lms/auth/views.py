"""Login, logout and the account page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from lms.auth import throttle, tokens
from lms.auth.forms import (
    ChangePasswordForm,
    LoginForm,
    ProfileForm,
    RequestResetForm,
    ResetPasswordForm,
)
from lms.extensions import db
from lms.mail import send_mail
from lms.models import User
from lms.timeutil import utcnow

bp = Blueprint("auth", __name__, url_prefix="/auth")

BAD_LOGIN = "The email address or password is not right."


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: an open redirect would help phishing."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        email = User.normalise_email(form.email.data)
        keys = [f"account:{email}", f"ip:{request.remote_addr or 'unknown'}"]
        wait = throttle.seconds_locked(keys)
        if wait:
            form.form_errors.append(
                f"Too many failed attempts. Wait {wait} seconds, then try again, or reset your password."
            )
            status = 429
        else:
            user = db.session.scalar(select(User).where(User.email == email))
            if user is None or not user.check_password(form.password.data) or not user.active:
                throttle.record_failure(keys)
                db.session.commit()
                form.form_errors.append(BAD_LOGIN)
                status = 401
            else:
                throttle.record_success(keys[0])
                user.last_login_at = utcnow()
                db.session.commit()
                login_user(user, remember=form.remember.data)
                flash(f"Welcome back, {user.name}.", "success")
                return redirect(_safe_next(request.args.get("next")) or url_for("main.dashboard"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash("You have logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    profile = ProfileForm(prefix="profile", obj=current_user)
    password = ChangePasswordForm(prefix="pw")
    if "profile-name" in request.form and profile.validate_on_submit():
        current_user.name = profile.name.data.strip()
        db.session.commit()
        flash("Your name was saved.", "success")
        return redirect(url_for("auth.account"))
    if "pw-new_password" in request.form and password.validate_on_submit():
        if not current_user.check_password(password.current_password.data):
            password.current_password.errors.append("Your current password is not right.")
        else:
            current_user.set_password(password.new_password.data)
            db.session.commit()
            flash("Your password was changed.", "success")
            return redirect(url_for("auth.account"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/account.html", profile=profile, password=password), status


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    form = RequestResetForm()
    if form.validate_on_submit():
        email = User.normalise_email(form.email.data)
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None and user.active:
            token = tokens.make_reset_token(user)
            link = url_for("auth.reset_password", token=token, _external=True)
            send_mail(
                user.email,
                "Reset your EduCluster password",
                f"Hello {user.name},\n\nTo choose a new password, open this link within an hour:\n"
                f"{link}\n\nIf you did not ask for this, you can ignore this mail.",
            )
            db.session.commit()
        # The same answer whether or not the account exists: no account enumeration.
        flash(
            "If an account uses that address, we have sent it a link to reset the password.", "info"
        )
        return redirect(url_for("auth.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/forgot_password.html", form=form), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    user = tokens.load_reset_token(token)
    if user is None:
        flash("That reset link is not valid any more. Ask for a new one.", "error")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        user.set_password(form.password.data)
        throttle.record_success(f"account:{user.email}")
        db.session.commit()
        flash("Your password was changed. You can log in now.", "success")
        return redirect(url_for("auth.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/reset_password.html", form=form), status
