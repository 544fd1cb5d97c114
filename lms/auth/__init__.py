"""Accounts: login with throttling, logout, registration, invitations, password reset."""

from __future__ import annotations

from flask import Flask

from lms.extensions import db, login_manager
from lms.models import User


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see this page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        try:
            user = db.session.get(User, int(user_id))
        except (TypeError, ValueError):
            return None
        # A deactivated account is logged out at its next request, not at its next login.
        return user if user is not None and user.active else None
