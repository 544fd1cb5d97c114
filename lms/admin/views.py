"""Admin pages. Site admins manage the cluster; org admins manage their organization.

The blueprint is shared by :mod:`lms.admin.site_views` and :mod:`lms.admin.org_views`; the nav
item and dashboard panels are registered by :func:`lms.admin.init_app` (see :mod:`lms.admin.panels`).
"""

from __future__ import annotations

from flask import Blueprint, request

from lms.lookup import organization_or_404
from lms.models import Organization
from lms.urls import url_with_query

bp = Blueprint("admin", __name__, url_prefix="/admin")

PER_PAGE = 25


def org_or_404(slug: str, capability: str) -> Organization:
    """The organization, under the one rule of :func:`lms.lookup.organization_or_404`."""
    return organization_or_404(slug, capability)


def list_args(*names: str) -> dict[str, str]:
    """Filter values from the query string, trimmed and bounded (never trusted further)."""
    return {name: (request.args.get(name) or "").strip()[:200] for name in names}


def sort_url_factory(endpoint: str, **view_args):
    """A function for the ``sort_header`` macro: the current filters with a new sort."""

    def sort_url(key: str, direction: str) -> str:
        """URL of the current list sorted by another column, keeping its filters."""
        query = [
            (k, v) for k, v in request.args.items(multi=True) if k not in ("sort", "dir", "page")
        ]
        return url_with_query(endpoint, view_args, [*query, ("sort", key), ("dir", direction)])

    return sort_url


def sort_args(default: str = "name") -> tuple[str, str]:
    """Sort key and direction of an admin list, read from the query string."""
    sort = request.args.get("sort") or default
    direction = "desc" if request.args.get("dir") == "desc" else "asc"
    return sort, direction
