"""The HR dashboard: programs at a glance, the employee table and exports, transcripts.

Every page is scoped to one organization in the URL; HR of another organization gets a 404
(``require(..., hide=True)``), whether they use the UI, guess URLs or ask for an export.
"""

from __future__ import annotations

from datetime import datetime

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.export import csv_response, stream_rows, xlsx_response
from lms.hr import queries
from lms.hr.blueprint import bp
from lms.hr.transcript import activity_details, employee_transcript
from lms.lookup import organization_or_404
from lms.models import Organization
from lms.pagination import page_number
from lms.permissions import can, organizations_where
from lms.templating import status_label
from lms.timeutil import utcnow
from lms.urls import current_url, parse_id, url_with_query

PER_PAGE = 25
EXPORT_HEADER = [
    "Employee", "Email", "Department", "Program", "Status", "Progress %",
    "Courses completed", "Last activity", "Due", "Completed", "Cycle",
]  # fmt: skip
# Column widths in the XLSX (characters): names and programs are long, figures short.
EXPORT_WIDTHS = [26, 30, 18, 34, 13, 11, 10, 17, 12, 17, 7]


def hr_organizations(user) -> list[Organization]:
    """Organizations whose progress ``user`` may see (every one for a site admin)."""
    return organizations_where(user, "org.view_progress")


def org_or_404(slug: str) -> Organization:
    """The organization, if the current user may see its progress (one rule for every page)."""
    return organization_or_404(slug, "org.view_progress")


@bp.route("/hr/")
@login_required
def index():
    """HR entry page: goes to the one organization or lets HR pick one."""
    orgs = hr_organizations(current_user)
    wanted = request.args.get("org")
    if wanted:
        return redirect(url_for("hr.dashboard", org=wanted))
    if len(orgs) == 1 or (orgs and not can(current_user, "site.admin")):
        return redirect(url_for("hr.dashboard", org=orgs[0].slug))
    if not orgs:
        abort(403)
    return render_template("hr/hr_choose.html", orgs=orgs)


def _switcher(org: Organization) -> list[Organization]:
    orgs = hr_organizations(current_user)
    return orgs if len(orgs) > 1 else []


@bp.route("/hr/<org>/")
@login_required
def dashboard(org: str):
    """HR's dashboard of one organization: programs, completion and due figures."""
    organization = org_or_404(org)
    now = utcnow()
    return render_template(
        "hr/hr_dashboard.html",
        org=organization,
        orgs=_switcher(organization),
        figures=queries.org_figures(organization.id, now),
        programs=queries.program_figures(organization.id, now),
        skills=queries.org_skills(organization.id),
        can_manage=can(current_user, "org.manage_programs", organization),
    )


def _filters(org: Organization) -> dict:
    args = request.args

    def as_int(name: str) -> int | None:
        """Id filter from the query string, or None."""
        return parse_id(args.get(name, ""))

    sort = args.get("sort", "name")
    return {
        "department_id": as_int("department"),
        "program_id": as_int("program"),
        "status": args.get("status") if args.get("status") in queries.DISPLAY_STATUSES else None,
        "overdue": args.get("overdue") == "1",
        "q": (args.get("q") or "").strip()[:100],
        "sort": sort if sort in queries.EMPLOYEE_SORTS else "name",
        "direction": "desc" if args.get("dir") == "desc" else "asc",
    }


@bp.route("/hr/<org>/employees")
@login_required
def employees(org: str):
    """HR's employee table of one organization, filtered, sorted and paged."""
    organization = org_or_404(org)
    f = _filters(organization)
    page = queries.employee_page(organization.id, utcnow(), page_number(), PER_PAGE, **f)
    programs = queries.org_programs(organization.id)

    def sort_url(key: str, direction: str) -> str:
        """URL of the employee table sorted by another column."""
        return current_url(drop=("page",), sort=key, dir=direction)

    filters = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    export_urls = {
        fmt: url_with_query(f"hr.employees_{fmt}", {"org": organization.slug}, filters)
        for fmt in ("csv", "xlsx")
    }
    return render_template(
        "hr/hr_employees.html",
        org=organization,
        orgs=_switcher(organization),
        page=page,
        f=f,
        departments=queries.org_departments(organization.id),
        programs=programs,
        statuses=queries.DISPLAY_STATUSES,
        sort_url=sort_url,
        export_urls=export_urls,
        now=utcnow(),
    )


def _export_rows(organization: Organization):
    """Rows as people read them: statuses in words, the due date as a date (it is the end of
    that day), progress as a number under a "%" header."""
    stmt = queries.employee_rows(organization.id, utcnow(), **_filters(organization))
    for r in stream_rows(stmt):
        yield (
            r.name, r.email, r.department or "", r.program, status_label(r.status),
            round(r.progress or 0, 1), r.courses_completed, r.last_activity_at,
            r.due_at.date() if r.due_at else None, r.completed_at, r.cycle,
        )  # fmt: skip


def _iso(value):
    if isinstance(value, datetime):
        return value.isoformat(" ", "minutes")
    return value.isoformat() if value else ""


@bp.route("/hr/<org>/employees.csv")
@login_required
def employees_csv(org: str):
    """HR's CSV export of the filtered employee table."""
    organization = org_or_404(org)
    rows = ((*r[:7], _iso(r[7]), _iso(r[8]), _iso(r[9]), r[10]) for r in _export_rows(organization))
    stamp = utcnow().strftime("%Y%m%d")
    return csv_response(f"{organization.slug}-employees-{stamp}.csv", EXPORT_HEADER, rows)


@bp.route("/hr/<org>/employees.xlsx")
@login_required
def employees_xlsx(org: str):
    """HR's Excel export of the filtered employee table."""
    organization = org_or_404(org)
    stamp = utcnow().strftime("%Y%m%d")
    moment, day = "yyyy-mm-dd hh:mm", "yyyy-mm-dd"
    return xlsx_response(
        f"{organization.slug}-employees-{stamp}.xlsx",
        "Employees",
        EXPORT_HEADER,
        _export_rows(organization),
        formats={5: "0.0", 7: moment, 8: day, 9: moment},
        widths=EXPORT_WIDTHS,
    )


@bp.route("/hr/<org>/employees/<int:user_id>")
@login_required
def transcript_page(org: str, user_id: int):
    """One employee's transcript, with each activity's state and its plugin's summary."""
    organization = org_or_404(org)
    employee = queries.employee_in_org(organization.id, user_id)
    if employee is None:
        abort(404)
    record = employee_transcript(employee, organization.id)
    return render_template(
        "hr/transcript.html",
        org=organization,
        employee=employee,
        transcript=record,
        details=activity_details(employee, record.course_ids()),
        now=utcnow(),
    )
