"""Uncovered demand: skills partners need that no published course reaches, and the co-design
request a trainer starts from it (a draft course with those skills as outcomes, the demanding
organization invited as industry partner; the usual co-design sign-off then applies)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from courses.blueprint import bp
from courses.demand import start_codesign_request
from lms.errors import DomainError
from lms.extensions import db
from lms.models import Organization
from lms.permissions import can, organizations_where
from lms.skills.gap import uncovered_demand
from lms.urls import parse_id


def _author_orgs() -> list[Organization]:
    """Organizations in which the current user may start a course."""
    return organizations_where(current_user, "course.create")


@bp.route("/uncovered-demand", methods=["GET", "POST"])
@login_required
def uncovered():
    """Demand no published course covers, and the action that starts a co-design request."""
    if not can(current_user, "course.create"):
        abort(403)
    rows = uncovered_demand()
    orgs = _author_orgs()
    error = None
    if request.method == "POST":
        picked = set(request.form.getlist("pick"))
        chosen = [
            r for r in rows if f"{r['organization_id']}-{r['skill_id']}-{r['level']}" in picked
        ]
        lead = parse_id(request.form.get("lead_org"))
        try:
            course, invited = start_codesign_request(
                chosen, lead, {o.id for o in orgs}, current_user
            )
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
        else:
            db.session.commit()
            invite = f"; {chosen[0]['demanded_by']} is invited as partner." if invited else "."
            flash("Started a draft course with the demanded skills as outcomes" + invite, "success")
            return redirect(url_for("courses.structure_page", slug=course.slug))
    page = render_template("courses/uncovered_demand.html", rows=rows, orgs=orgs, error=error)
    return page, (400 if error else 200)
