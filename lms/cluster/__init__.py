"""Cluster monitoring and evaluation: partner indicators and targets, monthly snapshots, signals
that prompt action, work-based placements, transparent joint funding, feedback surveys and the
public report. Reads courses, labs and progress through the shared domain and the registry."""

from __future__ import annotations

from flask import Flask


def _may_view(user) -> bool:
    from lms.cluster.views import may_view_cluster  # the views import every cluster module

    return may_view_cluster(user)


def _feedback_panel(user):
    """Dashboard panel for trainers: their courses' evaluations."""
    from flask import render_template

    from lms.cluster.surveys import feedback_overview

    rows = feedback_overview(user)
    return render_template("cluster/_feedback_panel.html", rows=rows) if rows else None


def _seed_cluster() -> None:
    from lms.cluster.seed import seed_cluster  # the seed imports every cluster service

    seed_cluster()


def init_app(app: Flask) -> None:
    """Register the cluster pages, the API route, the ``cluster`` CLI group and the menu."""
    from lms import signals
    from lms.cluster import (
        api_views,
        cli,
        funding_views,
        placement_views,
        signal_views,
        survey_views,
        surveys,
        views,
    )
    from lms.extensions import csrf
    from lms.main import register_dashboard_panel
    from lms.templating import register_nav

    # Importing them adds their routes to ``views.bp``.
    assert signal_views and placement_views and funding_views and survey_views
    signals.course_completed.connect(surveys.on_course_completed)
    csrf.exempt(api_views.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(api_views.bp)
    app.cli.add_command(cli.cluster_cli)
    # After progress (90): the rules and surveys read the demo's programs and completions.
    app.extensions.setdefault("lms.seed_steps", []).append(
        (95, "cluster monitoring", _seed_cluster)
    )
    register_dashboard_panel(app, "Course feedback", _feedback_panel, order=55)
    register_nav(app, "Cluster", "cluster.dashboard", _may_view, order=70, prefix="/cluster")
