"""Site administration (organizations, users) and organization administration (members,
departments, invitations)."""

from __future__ import annotations

from flask import Flask

from lms.admin import org_views, panels, site_views
from lms.admin.views import bp


def init_app(app: Flask) -> None:
    """Register the administration pages, the menu entry and the dashboard panels."""
    assert org_views and site_views  # importing them adds their routes to ``bp``
    app.register_blueprint(bp)
    panels.register(app)
