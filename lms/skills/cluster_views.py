"""The cluster's skills page (cluster admin): demand of every partner and region, supply, pipeline
and gap across the cluster, and the import of regional demand from a labour office's CSV."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.errors import DomainError
from lms.export import csv_response
from lms.extensions import db
from lms.permissions import require
from lms.skills import gap as gaps
from lms.skills.charts import gap_chart
from lms.skills.demand import REGIONAL_COLUMNS, import_regional_demand
from lms.timeutil import utcnow

bp = Blueprint("skills_cluster", __name__, url_prefix="/skills/cluster")


@bp.route("/", methods=["GET", "POST"])
@login_required
def cluster_gap():
    """Cluster-wide gap per demanded skill; the regional demand import."""
    require("site.admin")
    error = None
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise DomainError("Choose a CSV file to import.", "file")
            count = import_regional_demand(upload.read(), utcnow().date(), current_user)
            db.session.commit()
            flash(f"Imported {count} regional role{'s' if count != 1 else ''}.", "success")
            return redirect(url_for(".cluster_gap"))
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
    rows = gaps.gap_rows(None, gaps.GapFilters(sort=request.args.get("sort", "gap")))
    return render_template(
        "skills/cluster_gap.html",
        rows=rows,
        chart=gap_chart(rows),
        error=error,
        columns=REGIONAL_COLUMNS,
        # The courses component (a plugin) offers the uncovered-demand page when installed.
        totals={
            k: sum(getattr(r, k) for r in rows) for k in ("demand", "supply", "pipeline", "gap")
        },
    ), (400 if error else 200)


@bp.get("/gap.csv")
@login_required
def cluster_gap_csv():
    """The cluster-wide gap as CSV."""
    require("site.admin")
    rows = gaps.gap_rows(None, gaps.GapFilters())
    return csv_response(
        "skills-gap-cluster.csv",
        ["Skill", "URI", "Level", "Needed by", "Demand", "Supply", "Pipeline", "Gap"],
        [
            [r.label, r.uri, r.level_name, r.needed_by, r.demand, r.supply, r.pipeline, r.gap]
            for r in rows
        ],
    )
