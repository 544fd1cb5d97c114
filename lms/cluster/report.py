"""The public cluster report for stakeholders: the year's indicators (cluster totals, small
counts suppressed), monthly trends, co-designed courses, placements and funding totals; as a page
and as a PDF built from the same :func:`public_report` data."""

from __future__ import annotations

from datetime import datetime, timedelta

from fpdf import FPDF
from sqlalchemy import func, select

from lms.cluster.funding import transparency_totals
from lms.cluster.indicators import INDICATORS, Viewer, indicator_report, trend
from lms.cluster.periods import parse_period
from lms.credentials.pdf import _fonts, _latin1
from lms.domain.models import Course, CoursePartner, CourseStatus
from lms.extensions import db
from lms.models import Organization

PUBLIC = Viewer(org_ids=frozenset(), all_partners=False)
TREND_KEYS = ["enrolled", "completed", "completion_rate", "placements_filled"]


def codesigned_courses(year_end: datetime) -> list[dict]:
    """Published courses with two or more partners by ``year_end``, with the partners' names."""
    partners = (
        select(CoursePartner.course_id)
        .group_by(CoursePartner.course_id)
        .having(func.count() >= 2)
        .subquery()
    )
    rows = db.session.execute(
        select(Course.id, Course.title, Organization.name)
        .join(partners, partners.c.course_id == Course.id)
        .join(CoursePartner, CoursePartner.course_id == Course.id)
        .join(Organization, Organization.id == CoursePartner.organization_id)
        .where(Course.status == CourseStatus.PUBLISHED, Course.created_at < year_end)
        .order_by(Course.title, Organization.name)
    ).all()
    courses: dict[int, dict] = {}
    for cid, title, org in rows:
        courses.setdefault(cid, {"title": title, "partners": []})["partners"].append(org)
    return list(courses.values())


def public_report(year: str, now: datetime) -> dict:
    """Everything the public report shows for ``year`` (aggregates only)."""
    period = parse_period(year)
    if period.kind != "year":
        from lms.errors import DomainError  # only this check raises here

        raise DomainError("The report covers a year: write it as 2026.", "year")
    report = indicator_report(period, PUBLIC, now)
    # The year's months up to now (all twelve for a past year).
    last = min(now, period.end - timedelta(seconds=1))
    series = trend(TREND_KEYS, PUBLIC, last, months=last.month) if last >= period.start else None
    return {
        "year": period.name,
        "live": report["period"]["live"],
        "indicators": [{**meta, **report["cluster"][meta["key"]]} for meta in report["indicators"]],
        "trend": series,
        "courses": codesigned_courses(period.end),
        "funding": transparency_totals(),
        "partners": db.session.scalar(select(func.count(Organization.id))) or 0,
    }


def report_pdf(data: dict) -> bytes:
    """The report as an A4 PDF (fpdf2, the certificates' fonts)."""
    pdf = FPDF(format="A4")
    sans, _serif = _fonts(pdf)
    uni = sans == "Sans"
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font(sans, "B", 18)
    pdf.cell(0, 12, _latin1(f"Cluster report {data['year']}", uni), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(sans, "", 10)
    pdf.cell(0, 6, _latin1(f"{data['partners']} partner organizations. Aggregates only; counts "
                           "under 5 people are shown as 'fewer than 5'.", uni),
             new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.ln(4)
    pdf.set_font(sans, "B", 13)
    pdf.cell(0, 8, "Indicators", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(sans, "", 10)
    for item in data["indicators"]:
        label = item["label"] + (f" ({item['eqavet']})" if item.get("eqavet") else "")
        pdf.cell(120, 6, _latin1(label, uni))
        pdf.cell(0, 6, _latin1(item["display"], uni), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(sans, "B", 13)
    pdf.cell(0, 8, "Monthly trends", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(sans, "", 9)
    months = data["trend"]["months"] if data["trend"] else []
    labels = {i.key: i.label for i in INDICATORS}
    for key, points in (data["trend"]["series"] if data["trend"] else {}).items():
        values = ", ".join(f"{m[5:]}: {p['display']}" for m, p in zip(months, points, strict=True))
        pdf.multi_cell(
            0, 5, _latin1(f"{labels[key]}: {values}", uni), new_x="LMARGIN", new_y="NEXT"
        )
    pdf.ln(4)
    pdf.set_font(sans, "B", 13)
    pdf.cell(0, 8, "Co-designed courses", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(sans, "", 10)
    for course in data["courses"]:
        pdf.multi_cell(0, 6, _latin1(f"{course['title']}: {', '.join(course['partners'])}", uni),
                       new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.ln(4)
    funding = data["funding"]
    pdf.set_font(sans, "B", 13)
    pdf.cell(0, 8, "Joint funding", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(sans, "", 10)
    for program in funding["programs"]:
        pdf.cell(0, 6, _latin1(
            f"{program['program']}: contributed {program['contribution'] / 100:,.2f}, "
            f"spent {program['spending'] / 100:,.2f} {funding['currency']}", uni),
            new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    return bytes(pdf.output())
