"""The rules that find problems early. Each returns :class:`Finding` rows, set-based (a fixed
number of queries whatever the number of programs, courses or people); thresholds are settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import url_for
from sqlalchemy import and_, func, select

from lms.cluster.indicators import BY_KEY, TargetStatus, period_raw, target_status, targets_by_org
from lms.cluster.models import Placement, PlacementStatus, Severity
from lms.cluster.periods import previous_month
from lms.cluster.thresholds import threshold
from lms.domain.models import (
    Activity,
    Course,
    CoursePartner,
    CourseSignoff,
    CourseStatus,
    Enrolment,
    EnrolmentStatus,
)
from lms.extensions import db
from lms.links import activity_url, course_url
from lms.models import Membership, Organization, Role
from lms.progress.models import (
    ActivityCompletion,
    AssignmentStatus,
    CompletionState,
    CourseCompletion,
    Program,
    ProgramAssignment,
)
from lms.skills.gap import uncovered_demand


# --- findings --------------------------------------------------------------------------------
@dataclass
class Finding:
    """A problem one rule sees now; ``key`` identifies it across evaluations."""

    key: str
    rule: str
    organization_id: int | None
    severity: str
    title: str
    link: str
    figures: dict = field(default_factory=dict)


RULE_LABELS = {
    "overdue": "Program overdue",
    "signoff": "Sign-off waiting",
    "inactive": "Inactive learners",
    "lab_pass_rate": "Low lab pass rate",
    "uncovered_demand": "Demand no course covers",
    "placement_unfilled": "Placement unfilled",
    "off_target": "Indicator off target",
}


def overdue_programs(now: datetime) -> list[Finding]:
    """Programs whose overdue share is above the threshold."""
    limit = threshold("overdue_share")
    open_ = ProgramAssignment.status.in_([AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS])
    rows = db.session.execute(
        select(
            Program.id,
            Program.name,
            Organization.slug,
            Program.organization_id,
            func.count(ProgramAssignment.id),
            func.count(ProgramAssignment.id).filter(open_, ProgramAssignment.due_at < now),
        )
        .join(ProgramAssignment, ProgramAssignment.program_id == Program.id)
        .join(Organization, Organization.id == Program.organization_id)
        .where(Program.archived.is_(False), ProgramAssignment.status != AssignmentStatus.EXPIRED)
        .group_by(Program.id, Program.name, Organization.slug, Program.organization_id)
    ).all()
    out = []
    for pid, name, slug, org_id, total, overdue in rows:
        share = 100 * overdue / total if total else 0
        if overdue and share > limit:
            out.append(
                Finding(
                    f"overdue:program:{pid}",
                    "overdue",
                    org_id,
                    Severity.HIGH if share >= 2 * limit else Severity.MEDIUM,
                    f"{overdue} of {total} assignments of {name} are overdue",
                    url_for("hr.program", org=slug, program_id=pid),
                    {
                        "overdue": overdue,
                        "assignments": total,
                        "share_percent": round(share, 1),
                        "threshold_percent": limit,
                    },
                )  # fmt: skip
            )
    return out


def waiting_signoffs(now: datetime) -> list[Finding]:
    """Courses in review longer than the threshold without a partner's sign-off."""
    days = threshold("signoff_days")
    signed = (
        select(CourseSignoff.id)
        .where(
            CourseSignoff.course_id == Course.id,
            CourseSignoff.organization_id == CoursePartner.organization_id,
            CourseSignoff.content_version == Course.content_version,
            CourseSignoff.withdrawn_at.is_(None),
        )
        .exists()
    )
    rows = db.session.execute(
        select(Course, CoursePartner.organization_id, Organization.name)
        .join(CoursePartner, CoursePartner.course_id == Course.id)
        .join(Organization, Organization.id == CoursePartner.organization_id)
        .where(
            Course.status == CourseStatus.IN_REVIEW,
            Course.updated_at < now - timedelta(days=days),
            ~signed,
        )
    ).all()
    out = []
    for course, org_id, org_name in rows:
        waited = (now - course.updated_at).days
        out.append(
            Finding(
                f"signoff:course:{course.id}:org:{org_id}",
                "signoff",
                org_id,
                Severity.HIGH if waited >= 2 * days else Severity.MEDIUM,
                f"{course.title} has waited {waited} days for {org_name}'s sign-off",
                course_url(course) or "",
                {
                    "days_waiting": waited,
                    "threshold_days": days,
                    "content_version": course.content_version,
                },
            )  # fmt: skip
        )
    return out


def inactive_learners(now: datetime) -> list[Finding]:
    """Per organization: enrolled learners with no activity for the threshold's days."""
    days = threshold("inactive_days")
    cutoff = now - timedelta(days=days)
    last = func.coalesce(CourseCompletion.last_activity_at, Enrolment.enrolled_at)
    rows = db.session.execute(
        select(
            Membership.organization_id,
            Organization.slug,
            func.count(func.distinct(Enrolment.user_id)),
            func.count(Enrolment.id),
        )
        .join(Enrolment, Enrolment.user_id == Membership.user_id)
        .join(Organization, Organization.id == Membership.organization_id)
        .outerjoin(
            CourseCompletion,
            and_(
                CourseCompletion.user_id == Enrolment.user_id,
                CourseCompletion.course_id == Enrolment.course_id,
            ),
        )
        .where(
            Membership.role == Role.LEARNER,
            Enrolment.status == EnrolmentStatus.ACTIVE,
            Enrolment.enrolled_at < cutoff,
            last < cutoff,
            func.coalesce(CourseCompletion.state, CompletionState.NOT_STARTED).not_in(
                [CompletionState.COMPLETED, CompletionState.FAILED]
            ),
        )
        .group_by(Membership.organization_id, Organization.slug)
    ).all()
    return [
        Finding(
            f"inactive:org:{org_id}",
            "inactive",
            org_id,
            Severity.MEDIUM if people >= 5 else Severity.LOW,
            f"{people} enrolled learner{'s' if people != 1 else ''} without activity for "
            f"{days:g} days",
            url_for("hr.employees", org=slug),
            {"learners": people, "enrolments": enrolments, "threshold_days": days},
        )  # fmt: skip
        for org_id, slug, people, enrolments in rows
    ]


def _practical_types() -> list[str]:
    """Activity types whose plugin says they measure practical work (labs), from the registry."""
    from flask import current_app  # the registry lives on the app

    return [
        t.key
        for t in current_app.extensions["lms.activities"]
        if getattr(t, "cluster_measure", "") == "practical"
    ]


def _lab_results(types: list[str], min_attempts: float) -> list:
    """Per practical activity with enough attempts: (id, title, course, lead partner, attempts,
    learners, learners passed), grouped in one query."""
    lead = (
        select(CoursePartner.course_id, func.min(CoursePartner.id).label("first"))
        .group_by(CoursePartner.course_id)
        .subquery()
    )
    return db.session.execute(
        select(
            Activity.id,
            Activity.title,
            Course,
            CoursePartner.organization_id,
            func.sum(ActivityCompletion.attempts),
            func.count(ActivityCompletion.id),
            func.count(ActivityCompletion.id).filter(ActivityCompletion.completed.is_(True)),
        )
        .join(ActivityCompletion, ActivityCompletion.activity_id == Activity.id)
        .join(Course, Course.id == Activity.course_id)
        .join(lead, lead.c.course_id == Course.id)
        .join(CoursePartner, CoursePartner.id == lead.c.first)
        .where(Activity.type.in_(types), ActivityCompletion.attempts > 0)
        .group_by(Activity.id, Activity.title, Course.id, CoursePartner.organization_id)
        .having(func.sum(ActivityCompletion.attempts) >= min_attempts)
    ).all()


def low_lab_pass_rates(now: datetime) -> list[Finding]:
    """Practical activities (labs) whose pass rate is low after enough attempts."""
    types = _practical_types()
    if not types:
        return []
    rate = threshold("lab_pass_rate")
    out = []
    for aid, title, course, org_id, tries, learners, passed in _lab_results(
        types, threshold("lab_min_attempts")
    ):
        share = 100 * passed / learners if learners else 0
        if share < rate:
            out.append(
                Finding(
                    f"lab:activity:{aid}",
                    "lab_pass_rate",
                    org_id,
                    Severity.HIGH if share < rate / 2 else Severity.MEDIUM,
                    f"{title} ({course.title}): {share:.0f}% of learners pass after {tries} attempts",
                    activity_url(course, aid) or course_url(course) or "",
                    {
                        "attempts": int(tries),
                        "learners": learners,
                        "passed": passed,
                        "pass_rate_percent": round(share, 1),
                        "threshold_percent": rate,
                    },
                )  # fmt: skip
            )
    return out


def uncovered(now: datetime) -> list[Finding]:
    """Demanded skills and levels no published course reaches: the cluster admin convenes the
    universities to co-design one (the owner is the cluster, not one partner)."""
    out = []
    for row in uncovered_demand():
        who = row["organization_id"] or row["demanded_by"]
        out.append(
            Finding(
                f"uncovered:{who}:{row['skill_id']}:{row['level']}",
                "uncovered_demand",
                None,
                Severity.HIGH if row["headcount"] >= 10 else Severity.MEDIUM,
                f"{row['demanded_by']} needs {row['headcount']} people with {row['label']} "
                f"({row['level_name']}); no published course teaches it",
                url_for("skills_cluster.cluster_gap"),
                {
                    "headcount": row["headcount"],
                    "skill": row["label"],
                    "level": row["level_name"],
                    "needed_by": row["needed_by"].isoformat(),
                },
            )  # fmt: skip
        )
    return out


def unfilled_placements(now: datetime) -> list[Finding]:
    """Published placements with free seats that start within the threshold's days."""
    days = threshold("placement_days")
    today = now.date()
    rows = db.session.scalars(
        select(Placement).where(
            Placement.status == PlacementStatus.PUBLISHED,
            Placement.seats_filled < Placement.seats,
            Placement.starts_on >= today,
            Placement.starts_on <= today + timedelta(days=days),
        )
    ).all()
    return [
        Finding(
            f"placement:{p.id}",
            "placement_unfilled",
            p.organization_id,
            Severity.HIGH if (p.starts_on - today).days <= days / 3 else Severity.MEDIUM,
            f"{p.title} starts in {(p.starts_on - today).days} days with "
            f"{p.seats_left} of {p.seats} seats free",
            url_for("cluster.placement", placement_id=p.id),
            {"seats": p.seats, "filled": p.seats_filled, "starts_on": p.starts_on.isoformat()},
        )  # fmt: skip
        for p in rows
    ]


def off_target(now: datetime) -> list[Finding]:
    """Partners whose indicator of the last complete month is off target.

    Judged on the last complete month, never the current one: on the 4th of a month the month
    holds a few days of data, and every count and share would look off target. The figures name
    the month judged; the signal clears when that month (or, once a new month is complete,
    the next one) meets the target.
    """
    targets = targets_by_org()
    if not targets:
        return []
    period = previous_month(now)
    raw, _live = period_raw(period, now)
    slugs = dict(db.session.execute(select(Organization.id, Organization.slug)).all())
    month_label = period.start.strftime("%B %Y")
    out = []
    for org_id, wanted in targets.items():
        for key, target in wanted.items():
            indicator = BY_KEY.get(key)
            if indicator is None or org_id not in slugs:
                continue
            value, _base = indicator.compute(raw.get(org_id, {}))
            if target_status(indicator, value, target) == TargetStatus.OFF_TRACK:
                out.append(
                    Finding(
                        f"target:org:{org_id}:{key}",
                        "off_target",
                        org_id,
                        Severity.MEDIUM,
                        f"{indicator.label} is off target in {month_label} "
                        f"({value:g} against {target:g})",
                        url_for("cluster.partner", slug=slugs[org_id], period=period.name),
                        {
                            "indicator": indicator.label,
                            "period": period.name,
                            "value": value,
                            "target": target,
                        },
                    )  # fmt: skip
                )
    return out


RULES = (
    overdue_programs,
    waiting_signoffs,
    inactive_learners,
    low_lab_pass_rates,
    uncovered,
    unfilled_placements,
    off_target,
)


def find_problems(now: datetime) -> list[Finding]:
    """Every rule's findings now."""
    return [finding for rule in RULES for finding in rule(now)]
