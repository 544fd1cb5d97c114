"""The signals pages: the list (owners see their organizations', the cluster admin all),
acknowledge with a note, resolve, evaluate now, and the rules' thresholds."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.cluster import alerts, rules, thresholds
from lms.cluster.models import ClusterSignal, SignalState
from lms.cluster.views import bp, may_view_cluster
from lms.errors import DomainError
from lms.extensions import db
from lms.models import Role
from lms.permissions import require
from lms.timeutil import utcnow

STATES = ("unresolved", "open", "acknowledged", "resolved")


def _scope() -> set[int] | None:
    if current_user.is_site_admin:
        return None
    return current_user.organization_ids(Role.ORG_ADMIN, Role.HR)


def _signal_or_404(signal_id: int) -> ClusterSignal:
    signal = db.session.get(ClusterSignal, signal_id)
    scope = _scope()
    if signal is None or (scope is not None and signal.organization_id not in scope):
        abort(404)
    return signal


@bp.get("/signals")
@login_required
def signals():
    """Problems found by the rules, with their owner, figures and where to handle them."""
    if not may_view_cluster(current_user):
        abort(403)
    state = request.args.get("state", "unresolved")
    if state not in STATES:
        state = "unresolved"
    signals = alerts.signals_for(_scope(), state)
    return render_template(
        "cluster/signals.html",
        signals=signals,
        links=alerts.handling_links(signals, current_user),
        state=state,
        states=STATES,
        rule_labels=rules.RULE_LABELS,
    )


@bp.post("/signals/<int:signal_id>/acknowledge")
@login_required
def acknowledge(signal_id: int):
    """Acknowledge a signal with a note saying what is being done."""
    signal = _signal_or_404(signal_id)
    try:
        alerts.acknowledge_signal(signal, current_user, request.form.get("note", ""), utcnow())
        db.session.commit()
        flash("Signal acknowledged.", "success")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for(".signals"))


@bp.post("/signals/<int:signal_id>/resolve")
@login_required
def resolve(signal_id: int):
    """Resolve a signal by hand."""
    signal = _signal_or_404(signal_id)
    try:
        alerts.resolve_signal(signal, current_user, utcnow())
        db.session.commit()
        flash("Signal resolved.", "success")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for(".signals", state=SignalState.RESOLVED))


@bp.post("/signals/evaluate")
@login_required
def evaluate():
    """Run the rules now (the cluster admin; cron runs ``cluster signals``)."""
    require("site.admin")
    result = alerts.evaluate_signals(utcnow())
    db.session.commit()
    flash(
        f"Rules checked: {result.raised} new, {result.updated} still open, "
        f"{result.resolved} resolved.",
        "success",
    )
    return redirect(url_for(".signals"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    """The thresholds of the rules (cluster admin)."""
    require("site.admin")
    error = None
    values = {t.key: f"{thresholds.threshold(t.key):g}" for t in thresholds.THRESHOLDS}
    if request.method == "POST":
        values = {t.key: request.form.get(t.key, "") for t in thresholds.THRESHOLDS}
        try:
            thresholds.save_thresholds(values)
            db.session.commit()
            flash("Thresholds saved.", "success")
            return redirect(url_for(".settings"))
        except DomainError as exc:
            db.session.rollback()
            error = exc
    return render_template(
        "cluster/settings.html", thresholds=thresholds.THRESHOLDS, values=values, error=error
    ), (400 if error else 200)
