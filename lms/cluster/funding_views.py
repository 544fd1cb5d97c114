"""Funding pages: partners record contributions and spending; the public transparency page with
totals, entries and signed ledger checkpoints, and a checkpoint verifier anyone can use."""

from __future__ import annotations

import json
from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from lms.cluster import charts, report
from lms.cluster import funding as svc
from lms.cluster.indicators import BY_KEY
from lms.cluster.models import FUNDING_KIND_LABELS, FundingEntry, LedgerCheckpoint
from lms.cluster.views import bp
from lms.credentials.checkpoints import verify_checkpoint
from lms.errors import DomainError, InvalidFields
from lms.extensions import db
from lms.permissions import organizations_where
from lms.timeutil import utcnow


def _form_data() -> svc.FundingData:
    form = request.form
    upload = request.files.get("document")
    raw_date = (form.get("occurred_on") or "").strip()
    try:
        occurred = date.fromisoformat(raw_date) if raw_date else None
    except ValueError:
        raise DomainError("Write the date as YYYY-MM-DD.", "occurred_on") from None
    return svc.FundingData(
        direction=form.get("direction", ""), kind=form.get("kind", ""),
        program=form.get("program", ""), description=form.get("description", ""),
        currency=form.get("currency", ""), amount=form.get("amount", ""),
        hours=form.get("hours", ""), hourly_rate=form.get("hourly_rate", ""),
        occurred_on=occurred,
        document_name=upload.filename if upload else "",
        document_type=(upload.mimetype if upload else ""),
        document=upload.read() if upload and upload.filename else b"",
    )  # fmt: skip


@bp.route("/funding", methods=["GET", "POST"])
@login_required
def funding():
    """A partner's contributions and spending, and the form to record one."""
    orgs = organizations_where(current_user, "org.record_funding")
    if not orgs:
        abort(403)
    raw_org = request.values.get("org", "")
    org = next((o for o in orgs if str(o.id) == raw_org), orgs[0])
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            entry = svc.record_funding(org, _form_data(), current_user, utcnow())
            db.session.commit()
            flash(f"Recorded and entered on the ledger as entry {entry.ledger_seq}.", "success")
            return redirect(url_for(".funding", org=org.id))
        except InvalidFields as exc:
            db.session.rollback()
            errors = {e.field or "program": e.message for e in reversed(exc.errors)}
        except DomainError as exc:
            db.session.rollback()
            errors = {exc.field or "program": exc.message}
    return render_template(
        "cluster/funding.html", org=org, orgs=orgs, errors=errors, form=request.form,
        entries=svc.recent_entries(200, org.id), kinds=FUNDING_KIND_LABELS,
        currency=svc.cluster_currency(),
    ), (400 if errors else 200)  # fmt: skip


@bp.get("/funding/<int:entry_id>/document")
@login_required
def funding_document(entry_id: int):
    """The document of an entry (people of the cluster's partners)."""
    entry = db.session.get(FundingEntry, entry_id)
    if entry is None or not (current_user.is_site_admin or current_user.memberships):
        abort(404)
    return Response(
        entry.document,
        mimetype=entry.document_type,
        headers={"Content-Disposition": f'attachment; filename="funding-{entry.id}"',
                 "X-Content-Type-Options": "nosniff"},
    )  # fmt: skip


@bp.route("/transparency", methods=["GET", "POST"])
def transparency():
    """Public: contributions and spending per partner and program, the entries, the signed
    checkpoints, and a verifier for a saved checkpoint."""
    result = None
    if request.method == "POST":
        upload = request.files.get("checkpoint")
        try:
            doc = json.loads(upload.read()) if upload and upload.filename else None
        except ValueError:
            doc = None
        result = verify_checkpoint(doc) if doc is not None else (False, "choose a checkpoint file")
    return render_template(
        "cluster/transparency.html",
        totals=svc.transparency_totals(),
        entries=svc.recent_entries(100),
        checkpoints=svc.checkpoints(),
        result=result,
    ), (400 if result and not result[0] else 200)


def _checkpoint_response(row: LedgerCheckpoint | None) -> Response:
    if row is None:
        abort(404)
    return Response(
        row.document,
        mimetype="application/json",
        headers={"Content-Disposition": f'inline; filename="checkpoint-{row.day}.json"'},
    )


@bp.get("/transparency/checkpoints/latest.json")
def checkpoint_latest():
    """The newest signed checkpoint (public)."""
    return _checkpoint_response(svc.checkpoints(1)[0] if svc.checkpoints(1) else None)


@bp.get("/transparency/checkpoints/<day>.json")
def checkpoint(day: str):
    """The signed checkpoint of one day (public)."""
    try:
        when = date.fromisoformat(day)
    except ValueError:
        abort(404)
    return _checkpoint_response(
        db.session.scalar(select(LedgerCheckpoint).where(LedgerCheckpoint.day == when))
    )


@bp.get("/report")
def public_report_page():
    """Public: the cluster's report of a year (aggregates only), with a PDF."""
    year = request.args.get("year") or str(utcnow().year)
    try:
        data = report.public_report(year, utcnow())
    except DomainError as exc:
        return render_template("cluster/period_error.html", error=exc.message), 400
    if request.args.get("format") == "pdf":
        return Response(
            report.report_pdf(data),
            mimetype="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="cluster-report-{data["year"]}.pdf"'
            },
        )
    charts_ = [
        (BY_KEY[key].label, charts.line_chart(f"{BY_KEY[key].label}, {data['year']}",
                                              data["trend"]["months"], points, f"report-{key}"),
         list(zip(data["trend"]["months"], points, strict=True)))
        for key, points in (data["trend"]["series"].items() if data["trend"] else [])
    ]  # fmt: skip
    return render_template("cluster/report.html", data=data, charts=charts_)
