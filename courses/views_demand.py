"""Uncovered demand: skills partners need that no published course reaches, and the co-design
request a trainer starts from it (a draft course with those skills as outcomes, the demanding
organization invited as industry partner; the usual co-design sign-off then applies)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from courses.blueprint import bp
from courses.services import CourseData, create_course
from lms.errors import DomainError
from lms.extensions import db
from lms.models import Organization, Role
from lms.permissions import can
from lms.skills.gap import uncovered_demand
from lms.skills.models import Skill
from lms.skills.services import set_course_outcomes
from lms.urls import parse_id


def _author_orgs() -> list[Organization]:
    """Organizations in which the current user may start a course."""
    ids = current_user.organization_ids(Role.TRAINER, Role.ORG_ADMIN)
    stmt = select(Organization).order_by(Organization.name)
    if not current_user.is_site_admin:
        stmt = stmt.where(Organization.id.in_(ids))
    return list(db.session.scalars(stmt))


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
            if not chosen:
                raise DomainError("Tick the demanded skills the new course should develop.")
            demanders = {r["organization_id"] for r in chosen}
            if len(demanders) > 1:
                raise DomainError("Pick skills demanded by one organization or region at a time.")
            if lead not in {o.id for o in orgs}:
                raise DomainError("Choose your organization, which leads the course.")
            partner = chosen[0]["organization_id"]
            partners = [(lead, "academic_lead")]
            if partner is not None and partner != lead:
                partners.append((partner, "industry_partner"))
            labels = ", ".join(r["label"] for r in chosen[:3])
            course = create_course(
                CourseData(
                    title=f"{labels[:150]} (co-design request)",
                    summary=(
                        f"Requested by {chosen[0]['demanded_by']}: "
                        + "; ".join(f"{r['label']} at level {r['level_name']}" for r in chosen)
                        + "."
                    ),
                    partners=partners,
                ),
                current_user,
            )
            skills = {
                s.id: s
                for s in db.session.scalars(
                    select(Skill).where(Skill.id.in_([r["skill_id"] for r in chosen]))
                )
            }
            set_course_outcomes(course, [(skills[r["skill_id"]], r["level"]) for r in chosen])
            db.session.commit()
            flash(
                "Started a draft course with the demanded skills as outcomes"
                + (
                    f"; {chosen[0]['demanded_by']} is invited as partner."
                    if len(partners) > 1
                    else "."
                ),
                "success",
            )
            return redirect(url_for("courses.structure_page", slug=course.slug))
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
    return render_template("courses/uncovered_demand.html", rows=rows, orgs=orgs, error=error), (
        400 if error else 200
    )
