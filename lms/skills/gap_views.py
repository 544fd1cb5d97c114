"""HR pages for skills: job-role demand (with suggestions from a pasted description), the gap
table with exports, and closing one gap with a program. Scoped to one organization in the URL;
HR of another organization gets a 404."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from lms.errors import DomainError
from lms.export import csv_response, xlsx_response
from lms.extensions import db
from lms.lookup import organization_or_404
from lms.models import Department, Organization
from lms.permissions import can, require
from lms.progress.models import ProgramPurpose
from lms.progress.programs import ProgramData, assign_program, create_program
from lms.skills import cluster_views, profile_views  # the other skills pages
from lms.skills import gap as gaps
from lms.skills.charts import gap_chart
from lms.skills.demand import RoleData, delete_job_role, org_roles, save_job_role
from lms.skills.esco import ESCO_ATTRIBUTION
from lms.skills.gap_models import JobRole
from lms.skills.queries import skill_scales, skills_by_ids
from lms.skills.search import search_skills, suggest_skills
from lms.skills.supply import connect_signals, skill_profile
from lms.timeutil import utcnow
from lms.urls import parse_id

bp = Blueprint("skills_hr", __name__, url_prefix="/hr/<org>/skills")
GAP_HEADER = ["Skill", "URI", "Level", "Needed by", "Demand", "Supply", "Pipeline", "Gap"]


def _org(slug: str, capability: str = "org.view_progress") -> Organization:
    return organization_or_404(slug, capability)


def _departments(org: Organization) -> list[Department]:
    return list(
        db.session.scalars(
            select(Department).where(Department.organization_id == org.id).order_by(Department.name)
        )
    )


# --- demand ----------------------------------------------------------------------------------
@bp.get("/demand")
@login_required
def demand(org: str):
    """The organization's job roles with their required skills."""
    organization = _org(org)
    return render_template(
        "skills/demand.html",
        org=organization,
        roles=org_roles(organization.id),
        can_edit=can(current_user, "org.manage_programs", organization),
    )


def _candidates() -> list[dict]:
    """The skill rows already on the form (suggested or searched), with their choices."""
    rows = []
    seen = set()
    for raw in request.form.getlist("candidate"):
        skill_id = parse_id(raw)
        if skill_id is None or skill_id in seen:
            continue
        seen.add(skill_id)
        level = parse_id(request.form.get(f"level_{skill_id}")) or 2
        keep = request.form.get(f"keep_{skill_id}") == "1"
        rows.append({"id": skill_id, "level": level, "keep": keep, "matched": []})
    return rows


def _form_data(candidates: list[dict]) -> tuple[RoleData, list[str]]:
    errors = []
    headcount_raw = request.form.get("headcount", "").strip()
    try:
        headcount = int(headcount_raw) if headcount_raw else None
    except ValueError:
        headcount, _ = None, errors.append("headcount")
    try:
        needed_by = date.fromisoformat(request.form.get("needed_by", "").strip())
    except ValueError:
        needed_by = None
    return (
        RoleData(
            title=request.form.get("title", ""),
            headcount=headcount if headcount is not None else (-1 if errors else None),
            needed_by=needed_by,
            description=request.form.get("description", ""),
            department_id=parse_id(request.form.get("department_id")),
            skills=[(c["id"], c["level"]) for c in candidates if c["keep"]],
        ),
        errors,
    )


def _merge(candidates: list[dict], hits, keep: bool) -> list[dict]:
    known = {c["id"] for c in candidates}
    for hit in hits:
        if hit.id not in known:
            candidates.append(
                {"id": hit.id, "level": 2, "keep": keep, "matched": list(hit.matched)}
            )
            known.add(hit.id)
    return candidates


@bp.route("/demand/new", methods=["GET", "POST"])
@login_required
def new_role(org: str):
    """State a job role: paste a description for suggestions, confirm skills, save."""
    organization = _org(org, "org.manage_programs")
    candidates: list[dict] = []
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            candidates, role = _role_action(organization, _candidates(), errors)
            if role is not None:
                flash(f"Saved the demand for “{role.title}”.", "success")
                return redirect(url_for(".gap", org=organization.slug))
        except DomainError as exc:
            db.session.rollback()
            candidates = _candidates()
            errors[exc.field or "form"] = exc.message
    skills = skills_by_ids([c["id"] for c in candidates])
    # A refused save (or a suggestion that found nothing) answers 400, like every form here.
    return render_template(
        "skills/role_form.html",
        org=organization,
        departments=_departments(organization),
        candidates=[c for c in candidates if c["id"] in skills],
        skills=skills,
        scales=skill_scales(list(skills)),
        errors=errors,
        form=request.form,
        attribution=ESCO_ATTRIBUTION,
        today=utcnow().date(),
    ), (400 if errors else 200)


def _role_action(
    organization: Organization, candidates: list[dict], errors: dict[str, str]
) -> tuple[list[dict], JobRole | None]:
    """Suggest, search or save, as the pressed button says: (the candidates now, the saved role)."""
    action = request.form.get("action", "save")
    if action == "suggest":
        hits = suggest_skills(request.form.get("description", ""), 10)
        if not hits:
            errors["description"] = "No skill matched the description; search below."
        return _merge(candidates, hits, keep=True), None
    if action == "search":
        return _merge(candidates, search_skills(request.form.get("q", ""), 10), False), None
    data, _ = _form_data(candidates)
    role = save_job_role(organization, data, current_user, utcnow().date())
    db.session.commit()
    return candidates, role


@bp.post("/demand/<int:role_id>/delete")
@login_required
def delete_role(org: str, role_id: int):
    """Remove a job role from the organization's demand."""
    organization = _org(org, "org.manage_programs")
    role = db.session.get(JobRole, role_id)
    if role is None or role.organization_id != organization.id:
        abort(404)
    title = role.title
    delete_job_role(role)
    db.session.commit()
    flash(f"Removed “{title}” from the demand.", "success")
    return redirect(url_for(".demand", org=organization.slug))


# --- the gap ---------------------------------------------------------------------------------
def _filters() -> gaps.GapFilters:
    try:
        before = date.fromisoformat(request.args.get("before", "").strip())
    except ValueError:
        before = None
    return gaps.GapFilters(
        department_id=parse_id(request.args.get("department")),
        role_id=parse_id(request.args.get("role")),
        skill_id=parse_id(request.args.get("skill")),
        before=before,
        sort=request.args.get("sort", "gap"),
        descending=request.args.get("dir", "desc") != "asc",
    )


@bp.get("/gap")
@login_required
def gap(org: str):
    """Demand, supply, pipeline and gap per demanded skill, with anonymised cluster totals."""
    organization = _org(org)
    filters = _filters()
    rows = gaps.gap_rows(organization.id, filters)
    # Anonymised cluster figures, computed for the skills this organization demands only.
    demanded = tuple(sorted({r.skill_id for r in rows}))
    cluster = (
        {(r.skill_id, r.level): r for r in gaps.gap_rows(None, gaps.GapFilters(skill_ids=demanded))}
        if demanded
        else {}
    )
    args = {k: v for k, v in request.args.items() if k not in ("sort", "dir")}
    return render_template(
        "skills/gap.html",
        org=organization,
        rows=rows,
        chart=gap_chart(rows),
        cluster=cluster,
        filters=filters,
        departments=_departments(organization),
        roles=org_roles(organization.id),
        args=args,
        totals={
            k: sum(getattr(r, k) for r in rows) for k in ("demand", "supply", "pipeline", "gap")
        },
    )


def _export_rows(org: Organization):
    return [
        [r.label, r.uri, r.level_name, r.needed_by, r.demand, r.supply, r.pipeline, r.gap]
        for r in gaps.gap_rows(org.id, _filters())
    ]


@bp.get("/gap.csv")
@login_required
def gap_csv(org: str):
    """The gap table as CSV (formula-safe)."""
    organization = _org(org)
    return csv_response(
        f"skills-gap-{organization.slug}.csv", GAP_HEADER, _export_rows(organization)
    )


@bp.get("/gap.xlsx")
@login_required
def gap_xlsx(org: str):
    """The gap table as an XLSX workbook."""
    organization = _org(org)
    return xlsx_response(
        f"skills-gap-{organization.slug}.xlsx",
        "Skills gap",
        GAP_HEADER,
        _export_rows(organization),
    )


@bp.route("/gap/<int:skill_id>/<int:level>", methods=["GET", "POST"])
@login_required
def close_gap(org: str, skill_id: int, level: int):
    """One gap: the courses that cover it, the closest employees, and a program to close it."""
    organization = _org(org)
    rows = gaps.gap_rows(organization.id, gaps.GapFilters(skill_id=skill_id))
    row = next((r for r in rows if r.level == level), None)
    if row is None:
        abort(404)
    courses = gaps.covering_courses(skill_id, level)
    people = gaps.closest_employees(organization.id, skill_id, level)
    error = None
    if request.method == "POST":
        require("org.manage_programs", organization, hide=True)
        try:
            program, assigned = _program_for_gap(organization, row, {c["id"] for c in courses})
            flash(
                f"Created the program “{program.name}” and assigned it to {assigned} "
                f"employee{'s' if assigned != 1 else ''}.",
                "success",
            )
            return redirect(url_for("hr.program", org=organization.slug, program_id=program.id))
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
    return render_template(
        "skills/close_gap.html",
        org=organization,
        row=row,
        courses=courses,
        people=people,
        error=error,
        can_assign=can(current_user, "org.manage_programs", organization),
    ), (400 if error else 200)


def _program_for_gap(organization: Organization, row, allowed: set[int]):
    """Create an upskilling program of the chosen covering courses, due at the demand date, and
    assign it to the chosen employees; commits. Returns (the program, people assigned)."""
    course_ids = [i for i in map(parse_id, request.form.getlist("course_ids")) if i]
    user_ids = [i for i in map(parse_id, request.form.getlist("user_ids")) if i]
    if not course_ids or not set(course_ids) <= allowed:
        raise DomainError("Choose at least one of the courses that cover this skill.")
    if not user_ids:
        raise DomainError("Choose at least one employee.")
    program = create_program(
        organization,
        ProgramData(
            name=f"{row.label} ({row.level_name}) by {row.needed_by.isoformat()}",
            purpose=ProgramPurpose.UPSKILLING,
            description=f"Closes the skills gap in {row.label} at level {row.level_name}.",
            course_ids=course_ids,
            due_date=row.needed_by,
        ),
        current_user,
    )
    result = assign_program(program, user_ids, current_user)
    db.session.commit()
    return program, result.created


def init_app(app) -> None:
    """Register the HR skills pages and the learner's skill profile; earn skills on completion."""
    app.register_blueprint(bp)
    app.register_blueprint(profile_views.bp)
    app.register_blueprint(cluster_views.bp)
    connect_signals()
    # My learning and the HR transcript draw the profile with one function (they cannot disagree).
    app.jinja_env.globals["skill_profile"] = skill_profile
