"""Cluster monitoring and evaluation: partner indicators and targets, monthly snapshots, signals
that prompt action, work-based placements, transparent joint funding, feedback surveys and the
public report. Reads courses, labs and progress through the shared domain and the registry."""

from __future__ import annotations

from flask import Flask


def _may_view(user) -> bool:
    from lms.cluster.views import may_view_cluster  # the views import every cluster module

    return may_view_cluster(user)


def init_app(app: Flask) -> None:
    """Register the cluster pages, the API route, the ``cluster`` CLI group and the menu."""
    from lms.cluster import api_views, cli, funding_views, placement_views, signal_views, views
    from lms.extensions import csrf
    from lms.templating import register_nav

    # Importing them adds their routes to ``views.bp``.
    assert signal_views and placement_views and funding_views
    csrf.exempt(api_views.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(api_views.bp)
    app.cli.add_command(cli.cluster_cli)
    register_nav(app, "Cluster", "cluster.dashboard", _may_view, order=70, prefix="/cluster")
