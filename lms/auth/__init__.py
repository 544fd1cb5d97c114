"""Accounts: login with throttling, logout, registration, invitations, password reset."""

from __future__ import annotations

from flask import Flask, flash, redirect, request
from flask_login import login_url

from lms.auth import joining, views
from lms.auth.blueprint import bp
from lms.auth.sessions import load_session_user
from lms.errors import problem, wants_json
from lms.extensions import login_manager
from lms.models import User


def init_app(app: Flask) -> None:
    """Register the account pages and the login manager's rules (login page, session checks)."""
    assert joining and views  # importing them adds their routes to ``bp``
    app.register_blueprint(bp)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see this page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.unauthorized_handler
    def unauthorized():
        """People go to the login page (as Flask-Login does); JSON clients get a 401 problem.

        A script fetching ``/xapi/me.json`` or ``/certificates/<code>/credential.json`` without a
        session used to get a 302 to an HTML page it cannot use.
        """
        if request.path.endswith(".json") or wants_json():
            return problem(401, "Authentication required", "Sign in to use this address.")
        flash(login_manager.login_message, login_manager.login_message_category)
        return redirect(login_url(login_manager.login_view, next_url=request.url))

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        """Flask-Login loader: the user of a session id, if it is still valid."""
        return load_session_user(user_id)
