"""The "Organization" nav item and the admin dashboard panels (registered by lms.admin.init_app)."""

from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from lms.admin import queries
from lms.main import register_dashboard_panel
from lms.models import User
from lms.permissions import can, organizations_where
from lms.templating import register_nav


def _administers_an_org(user: User) -> bool:
    return bool(user.memberships) and can(user, "org.view_people")


def org_admin_panel(user: User) -> Markup | None:
    """Members and pending invitations of each organization the user administers."""
    if can(user, "site.admin"):
        return None  # site admins see the cluster panel instead
    orgs = organizations_where(user, "org.manage")
    if not orgs:
        return None
    figures = queries.org_figures([o.id for o in orgs])
    return Markup(render_template("admin/_panel_org.html", orgs=orgs, figures=figures))


def site_admin_panel(user: User) -> Markup | None:
    """Cluster figures for site administrators."""
    if not can(user, "site.admin"):
        return None
    return Markup(render_template("admin/_panel_site.html", figures=queries.cluster_figures()))


def register(app) -> None:
    """Add the "Organization" menu entry and the admin dashboard panels to ``app``."""
    register_nav(app, "Organization", "admin.org_home", _administers_an_org, 80, "/admin/org")
    register_dashboard_panel(app, "site-admin", site_admin_panel, order=5)
    register_dashboard_panel(app, "org-admin", org_admin_panel, order=10)
