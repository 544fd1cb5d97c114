"""Login, logout, the account page, password reset, invitations and self-registration."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from lms.auth import services, throttle, tokens
from lms.auth.blueprint import bp
from lms.auth.forms import (
    ChangePasswordForm,
    LoginForm,
    ProfileForm,
    RequestResetForm,
    ResetPasswordForm,
)
from lms.auth.mails import mail_reset_link
from lms.auth.sessions import end_session, start_session
from lms.extensions import db
from lms.models import User
from lms.settings import self_registration_enabled
from lms.timeutil import utcnow

BAD_LOGIN = "The email address or password is not right."
LOCKED_OUT = (
    "Too many failed attempts. Wait {wait} seconds, then try again, or reset your password."
)


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: an open redirect would help phishing.

    Control characters (``/%0d%0aX``) and backslashes (``/\\evil.example``, which browsers read
    as ``//``) are refused too: the first made the redirect itself a 500 after a good login.
    """
    if not target or any(ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign-in page for everyone, throttled per account and device."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        email = User.normalise_email(form.email.data)
        # A browser the owner logged in from before has its own counter: a guesser on the same
        # address (a campus NAT, the TLS proxy) cannot lock the owner out (see throttle.py).
        known_device = throttle.device_key(email, request.cookies.get(throttle.DEVICE_COOKIE))
        key = known_device or throttle.login_key(email, request.remote_addr or "unknown")
        wait = throttle.seconds_locked(key)
        if wait:
            form.form_errors.append(LOCKED_OUT.format(wait=wait))
            status = 429
        else:
            user = services.authenticate(email, form.password.data)
            if user is not None:
                return _logged_in(user, key, known_device, email, bool(form.remember.data))
            throttle.record_failure(key)
            db.session.commit()
            form.form_errors.append(BAD_LOGIN)
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template(
        "auth/login.html", form=form, self_registration_open=self_registration_enabled()
    ), status


def _logged_in(user: User, key: str, known_device: str | None, email: str, remember: bool):
    """Start the session, reset the throttle and remember this device for the next login."""
    throttle.record_success(key)
    user.last_login_at = utcnow()
    start_session(user, remember=remember)
    db.session.commit()
    flash(f"Welcome back, {user.name}.", "success")
    response = redirect(_safe_next(request.args.get("next")) or url_for("main.dashboard"))
    if known_device is None:
        response.set_cookie(
            throttle.DEVICE_COOKIE,
            throttle.device_cookie_value(email),
            max_age=throttle.DEVICE_DAYS * 86400,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
            path=url_for("auth.login"),
        )
    return response


@bp.route("/logout", methods=["POST"])
def logout():
    """End this login on the server too: copies of its cookies stop working."""
    if current_user.is_authenticated:
        end_session(current_user._get_current_object())
        db.session.commit()
    else:
        logout_user()
    flash("You have logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Signed-in user's account page: change name and password."""
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
            # Other sessions end with the old password; this one continues under the new one.
            login_user(current_user._get_current_object())  # same server-side session
            flash("Your password was changed.", "success")
            return redirect(url_for("auth.account"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/account.html", profile=profile, password=password), status


def mail_limit_wait(kind: str, email: str) -> int:
    """Seconds to wait before ``kind`` mails (reset, registration) may be asked for again.

    Counted per client address and per target address, whether an account exists or not, so
    the limit neither reveals accounts nor lets anyone flood a mailbox.
    """
    per_hour = int(current_app.config["MAILS_PER_HOUR"])
    keys = [
        throttle.limit_key(f"{kind}-from", request.remote_addr or "unknown"),
        throttle.limit_key(f"{kind}-to", email),
    ]
    return throttle.rate_limit(keys, per_hour, 3600)


def too_many_mails(form, wait: int) -> None:
    """Add the "try again later" error to a form whose mails are throttled."""
    form.form_errors.append(
        f"Too many requests for this address. Try again in {-(-wait // 60)} minutes."
    )


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    """Mail a reset link; the answer and the work are the same whether the account exists."""
    form = RequestResetForm()
    status = 200
    if form.validate_on_submit():
        email = User.normalise_email(form.email.data)
        wait = mail_limit_wait("reset", email)
        if wait:
            db.session.commit()
            too_many_mails(form, wait)
            return render_template("auth/forgot_password.html", form=form), 429
        mail_reset_link(email)
        db.session.commit()
        flash(
            "If an account uses that address, we have sent it a link to reset the password.", "info"
        )
        return redirect(url_for("auth.login"))
    if request.method == "POST":
        status = 400
    return render_template("auth/forgot_password.html", form=form), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Page behind a password-reset link to set a new password."""
    user = tokens.load_reset_token(token)
    if user is None:
        flash("That reset link is not valid any more. Ask for a new one.", "error")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        user.set_password(form.password.data)
        # This browser's address may be locked out by failed guesses: the owner proved themselves.
        throttle.record_success(throttle.login_key(user.email, request.remote_addr or "unknown"))
        db.session.commit()
        flash("Your password was changed. You can log in now.", "success")
        return redirect(url_for("auth.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/reset_password.html", form=form), status
