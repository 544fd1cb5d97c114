"""The cluster's indicator pages: the dashboard (all partners or one's own), a partner page,
and the targets the cluster admin sets."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from lms.cluster import charts, services
from lms.cluster.indicators import (
    BY_KEY,
    INDICATORS,
    TARGET_LABELS,
    Viewer,
    indicator_report,
    trend,
)
from lms.cluster.periods import Period, month_of, parse_period
from lms.errors import DomainError
from lms.extensions import db
from lms.models import Organization, Role
from lms.permissions import can, require
from lms.timeutil import utcnow

bp = Blueprint("cluster", __name__, url_prefix="/cluster")

TREND_KEYS = ["enrolled", "completed", "completion_rate", "lab_pass_rate", "placements_filled"]


def viewer_for(user) -> Viewer:
    """What ``user`` sees: every partner as cluster admin; in detail, their own organizations."""
    own = frozenset(user.organization_ids(Role.ORG_ADMIN, Role.HR))
    return Viewer(org_ids=own, all_partners=bool(user.is_site_admin))


def may_view_cluster(user) -> bool:
    """The cluster admin, and org admins and HR of any partner."""
    return bool(user.is_authenticated and (user.is_site_admin or can(user, "org.view_indicators")))


def _period() -> tuple[Period | None, str | None]:
    raw = request.args.get("period")
    if not raw:
        return month_of(utcnow()), None
    try:
        return parse_period(raw), None
    except DomainError as exc:
        return None, exc.message


def _charts(viewer: Viewer, org_id: int | None) -> list[dict]:
    data = trend(TREND_KEYS, viewer, utcnow(), months=12, org_id=org_id)
    return [
        {
            "key": key,
            "label": BY_KEY[key].label,
            "svg": charts.line_chart(
                f"{BY_KEY[key].label}, monthly", data["months"], data["series"][key],
                f"chart-{key}",
            ),
            "points": list(zip(data["months"], data["series"][key], strict=True)),
        }
        for key in TREND_KEYS
    ]  # fmt: skip


@bp.get("/")
@login_required
def dashboard():
    """Cluster totals, every partner's indicators (or one's own), monthly trends."""
    if not may_view_cluster(current_user):
        abort(403)
    period, error = _period()
    if error:
        return render_template("cluster/period_error.html", error=error), 400
    viewer = viewer_for(current_user)
    report = indicator_report(period, viewer, utcnow())
    return render_template(
        "cluster/dashboard.html",
        report=report,
        period=period,
        charts=_charts(viewer, None),
        target_labels=TARGET_LABELS,
    )


def _partner_or_404(slug: str) -> Organization:
    org = db.session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        abort(404)
    if not current_user.is_site_admin and not can(current_user, "org.view_indicators", org):
        # Members of other partners see only cluster totals; outsiders learn nothing.
        abort(403 if may_view_cluster(current_user) else 404)
    return org


@bp.get("/partners/<slug>")
@login_required
def partner(slug: str):
    """One partner's indicators, targets and trends."""
    org = _partner_or_404(slug)
    period, error = _period()
    if error:
        return render_template("cluster/period_error.html", error=error), 400
    viewer = viewer_for(current_user)
    report = indicator_report(period, viewer, utcnow(), org=org)
    return render_template(
        "cluster/partner.html",
        org=org,
        report=report,
        row=report["partners"][0],
        period=period,
        charts=_charts(viewer, org.id),
        target_labels=TARGET_LABELS,
    )


@bp.route("/partners/<slug>/targets", methods=["GET", "POST"])
@login_required
def targets(slug: str):
    """The cluster admin sets a partner's targets (empty: no target)."""
    require("site.admin")
    org = db.session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        abort(404)
    errors: dict[str, str] = {}
    current = services.targets_of(org.id)
    values = {k: ("" if v is None else f"{v:g}") for k, v in current.items()}
    if request.method == "POST":
        values = {i.key: request.form.get(i.key, "").strip() for i in INDICATORS}
        try:
            services.set_targets(org, values, current_user)
            db.session.commit()
            flash(f"Targets of {org.name} saved.", "success")
            return redirect(url_for(".partner", slug=org.slug))
        except services.TargetErrors as exc:
            db.session.rollback()
            errors = exc.errors
    return render_template(
        "cluster/targets.html", org=org, indicators=INDICATORS, values=values, errors=errors
    ), (400 if errors else 200)
