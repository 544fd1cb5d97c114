"""``GET /api/v1/cluster/indicators``: the indicators as the token's organization sees them."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from lms.api.auth import (
    ApiError,
    bad_request,
    current_token,
    not_found,
    render_api_error,
    token_required,
)
from lms.cluster.indicators import Viewer, indicator_report
from lms.cluster.periods import month_of, parse_period
from lms.errors import DomainError
from lms.extensions import db
from lms.models import Organization
from lms.timeutil import utcnow

bp = Blueprint("cluster_api", __name__, url_prefix="/api/v1/cluster")
bp.register_error_handler(ApiError, render_api_error)


@bp.get("/indicators")
@token_required
def indicators():
    """The token's organization in detail and the cluster totals (the partner page's figures)."""
    org_id = current_token().organization_id
    now = utcnow()
    raw = request.args.get("period")
    try:
        period = parse_period(raw) if raw else month_of(now)
    except DomainError as exc:
        raise bad_request(exc.message, "period") from None
    slug = request.args.get("org")
    org = db.session.get(Organization, org_id)
    if slug is not None and slug != org.slug:
        raise not_found("A token sees its own organization's indicators only.")
    viewer = Viewer(org_ids=frozenset({org_id}), all_partners=False)
    return jsonify(indicator_report(period, viewer, now, org=org))
