"""Exports of xAPI statements as JSON: a learner's own, any learner's (HR), an organization's."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Flask, Response, abort, render_template, stream_with_context
from flask_login import current_user, login_required

from lms.extensions import db
from lms.models import Organization, User
from lms.permissions import can, organizations_where
from lms.timeutil import utcnow
from lms.xapi.lrs import lrs_configured, pending_count
from lms.xapi.statements import statements_query

bp = Blueprint("xapi", __name__, url_prefix="/xapi")


def _stream(stmt, filename: str) -> Response:
    """A StatementResult document streamed row by row (constant memory for large exports)."""

    def generate() -> Iterator[str]:
        """Stream the statements as one JSON document."""
        yield '{"statements":['
        first = True
        for (statement,) in db.session.execute(stmt.execution_options(yield_per=500)):
            yield statement if first else "," + statement
            first = False
        yield '],"more":""}\n'

    response = Response(stream_with_context(generate()), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _stamp() -> str:
    return utcnow().strftime("%Y%m%d-%H%M")


@bp.route("/")
@login_required
def index():
    """Page of xAPI exports for learners and the organizations the user may report on."""
    return render_template(
        "certificates/xapi.html",
        orgs=organizations_where(current_user, "org.view_progress"),
        lrs=lrs_configured(),
        pending=pending_count() if can(current_user, "site.admin") else None,
    )


@bp.route("/me.json")
@login_required
def mine():
    """Download of the signed-in learner's own xAPI statements."""
    return _stream(statements_query(user_id=current_user.id), f"xapi-my-learning-{_stamp()}.json")


@bp.route("/users/<int:user_id>.json")
@login_required
def learner(user_id: int):
    """Download of one learner's xAPI statements for them or their HR."""
    user = db.get_or_404(User, user_id)
    allowed = user.id == current_user.id or any(
        can(current_user, "org.view_progress", org_id) for org_id in user.organization_ids()
    )
    if not allowed:
        abort(404)
    return _stream(statements_query(user_id=user.id), f"xapi-user-{user.id}-{_stamp()}.json")


@bp.route("/organizations/<int:org_id>.json")
@login_required
def organization(org_id: int):
    """Download of an organization's xAPI statements for its HR."""
    org = db.get_or_404(Organization, org_id)
    if not can(current_user, "org.view_progress", org):
        abort(404)
    return _stream(statements_query(organization_id=org.id), f"xapi-{org.slug}-{_stamp()}.json")


def init_app(app: Flask) -> None:
    """Register the xAPI export blueprint."""
    app.register_blueprint(bp)
