"""The JSON API for HR systems under /api/v1 (personal access tokens, problem+json, OpenAPI)."""

from __future__ import annotations

from flask import Flask, render_template

from lms.api import models  # noqa: F401  (the api_tokens table)
from lms.api.token_views import bp as tokens_bp
from lms.api.views import bp as api_bp
from lms.extensions import csrf
from lms.main import register_dashboard_panel
from lms.permissions import can


def _integrations_panel(user) -> str | None:
    """A dashboard panel for HR managers and org admins: API tokens, exports, verification."""
    if not can(user, "org.manage_tokens"):
        return None
    return render_template("tokens/_panel.html")


def init_app(app: Flask) -> None:
    """Register the API blueprint (CSRF-exempt: token auth, no cookies) and the tokens page."""
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(tokens_bp)
    register_dashboard_panel(app, "integrations", _integrations_panel, order=90)
