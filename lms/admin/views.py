"""Admin pages. Site admins manage the cluster; org admins manage their organization."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import Membership, Organization, User
from lms.permissions import require

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/site")
@login_required
def site_index():
    require("site.admin")
    orgs = db.session.execute(
        select(Organization, func.count(Membership.id))
        .outerjoin(Membership, Membership.organization_id == Organization.id)
        .group_by(Organization.id)
        .order_by(Organization.name)
    ).all()
    user_count = db.session.scalar(select(func.count(User.id)))
    return render_template("admin/site_index.html", orgs=orgs, user_count=user_count)
