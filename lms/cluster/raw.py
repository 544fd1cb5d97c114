"""The raw figures behind the indicators: counts, numerators and denominators per partner.

:func:`raw_figures` reads the shared domain for one period with a fixed number of grouped
queries (one per figure, each grouped by organization), whatever the number of partners,
learners or months. A person counts for the organizations where they hold the role that matters
(learners for learning figures, trainers for trainers). The result is what a snapshot stores.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime

from flask import current_app
from sqlalchemy import Integer, and_, cast, func, or_, select, union, union_all

from lms.cluster.cohort import cohort_rows, members
from lms.cluster.models import (
    FOLLOW_UP_KINDS,
    ApplicationState,
    Placement,
    PlacementApplication,
    PlacementOutcome,
    PlacementStatus,
    SurveyKind,
    SurveyResponse,
)
from lms.cluster.periods import Period
from lms.domain.models import Activity, Course, CoursePartner, CourseStatus, Enrolment
from lms.extensions import db
from lms.models import Membership, Role
from lms.progress.models import (
    ActivityCompletion,
    CompletionHistory,
    CompletionState,
    CourseCompletion,
    Program,
    ProgramAssignment,
)
from lms.skills.gap_models import EvidenceKind, JobRole, RoleSkill, SkillEvidence
from lms.skills.supply import held_levels

#: Every raw figure; a missing one reads as 0.
RAW_KEYS = (
    "courses_codesigned", "partner_links", "trainers", "learners", "enrolled", "active",
    "completed", "completion_num", "completion_den", "median_days", "days_count",
    "lab_attempted", "lab_passed", "quiz_count", "quiz_sum", "program_due", "program_on_time",
    "recert_total", "recert_ok", "skills_gained", "demand_headcount", "demand_met",
    "placements_offered", "placements_filled", "placements_completed", "placements_hired",
    "eval_count", "satisfaction_sum", "relevance_sum", "follow_count", "skills_used_yes",
)  # fmt: skip

CLUSTER = None  # the key of the cluster-wide totals in the result of raw_figures


def _measure_keys(measure: str) -> list[str]:
    """Activity types whose plugin says its completions measure ``measure`` (the registry)."""
    registry = current_app.extensions["lms.activities"]
    return [t.key for t in registry if getattr(t, "cluster_measure", "") == measure]


class _Acc:
    """Accumulates grouped rows into per-organization and cluster figures."""

    def __init__(self) -> None:
        self.data: dict[int | None, dict[str, float]] = defaultdict(lambda: defaultdict(float))

    def add(self, key: str, rows, cluster_value: float | None = None) -> None:
        """Add (organization id, value) rows under ``key``, and their sum to the cluster."""
        total = 0.0
        for org_id, value in rows:
            self.data[org_id][key] += float(value or 0)
            total += float(value or 0)
        self.data[CLUSTER][key] += total if cluster_value is None else cluster_value


def raw_figures(period: Period, now: datetime) -> dict[int | None, dict[str, float]]:
    """{organization id (None: the cluster): {raw key: number}} for ``period`` (set-based)."""
    start, end = period.start, min(period.end, now)
    acc = _Acc()
    _courses(acc, end)
    _people(acc, start, end)
    _completions(acc, start, end)
    _cohort(acc, period, start, end)
    _activities(acc, start, end)
    _programs(acc, start, end)
    _skills(acc, start, end)
    _placements(acc, period, start, end)
    _surveys(acc, start, end)
    return {org: {k: v.get(k, 0.0) for k in RAW_KEYS} for org, v in acc.data.items()}


def _courses(acc: _Acc, end: datetime) -> None:
    counts = (
        select(CoursePartner.course_id, func.count().label("n"))
        .group_by(CoursePartner.course_id)
        .subquery()
    )
    stmt = (
        select(CoursePartner.organization_id, func.count(), func.sum(counts.c.n))
        .join(counts, counts.c.course_id == CoursePartner.course_id)
        .join(Course, Course.id == CoursePartner.course_id)
        .where(counts.c.n >= 2, Course.created_at < end, Course.status != CourseStatus.ARCHIVED)
        .group_by(CoursePartner.organization_id)
    )
    rows = db.session.execute(stmt).all()
    acc.add("courses_codesigned", [(r[0], r[1]) for r in rows])
    acc.add("partner_links", [(r[0], r[2]) for r in rows])
    # The cluster counts each co-designed course once, not once per partner.
    cluster = db.session.execute(
        select(func.count(), func.coalesce(func.sum(counts.c.n), 0))
        .select_from(counts)
        .join(Course, Course.id == counts.c.course_id)
        .where(counts.c.n >= 2, Course.created_at < end, Course.status != CourseStatus.ARCHIVED)
    ).one()
    acc.data[CLUSTER]["courses_codesigned"] = float(cluster[0])
    acc.data[CLUSTER]["partner_links"] = float(cluster[1])


def _people(acc: _Acc, start: datetime, end: datetime) -> None:
    for key, role in (("trainers", Role.TRAINER), ("learners", Role.LEARNER)):
        acc.add(
            key,
            db.session.execute(
                select(Membership.organization_id, func.count(func.distinct(Membership.user_id)))
                .where(Membership.role == role, Membership.created_at < end)
                .group_by(Membership.organization_id)
            ).all(),
        )
    learners = members(Role.LEARNER).subquery()
    # Active: activity or a completion in the period (two index-friendly branches).
    touched = union(
        select(CourseCompletion.user_id).where(
            CourseCompletion.last_activity_at >= start, CourseCompletion.last_activity_at < end
        ),
        select(CourseCompletion.user_id).where(
            CourseCompletion.completed_at >= start, CourseCompletion.completed_at < end
        ),
    ).subquery()
    active = db.session.execute(
        select(learners.c.organization_id, func.count(func.distinct(touched.c.user_id)))
        .join(touched, touched.c.user_id == learners.c.user_id)
        .group_by(learners.c.organization_id)
    ).all()
    acc.add("active", active)


def _completions(acc: _Acc, start: datetime, end: datetime) -> None:
    """Completions of the period (count, median days from enrolment), re-certified ones too."""
    learners = members(Role.LEARNER).subquery()
    # Completions of the period, including those since reset for re-certification (each branch
    # filtered on its indexed completed_at).
    done = union_all(
        select(
            CourseCompletion.user_id, CourseCompletion.course_id, CourseCompletion.completed_at
        ).where(
            CourseCompletion.state == CompletionState.COMPLETED,
            CourseCompletion.completed_at >= start,
            CourseCompletion.completed_at < end,
        ),
        select(
            CompletionHistory.user_id, CompletionHistory.course_id, CompletionHistory.completed_at
        ).where(
            CompletionHistory.state == CompletionState.COMPLETED,
            CompletionHistory.completed_at >= start,
            CompletionHistory.completed_at < end,
        ),
    ).subquery()
    rows = db.session.execute(
        select(learners.c.organization_id, done.c.completed_at, Enrolment.enrolled_at)
        .join(done, done.c.user_id == learners.c.user_id)
        .outerjoin(
            Enrolment,
            and_(Enrolment.user_id == done.c.user_id, Enrolment.course_id == done.c.course_id),
        )
    ).all()
    days: dict[int | None, list[float]] = defaultdict(list)
    for org_id, completed_at, enrolled_at in rows:
        acc.data[org_id]["completed"] += 1
        acc.data[CLUSTER]["completed"] += 1
        if enrolled_at is not None and completed_at >= enrolled_at:
            span = (completed_at - enrolled_at).total_seconds() / 86400
            days[org_id].append(span)
            days[CLUSTER].append(span)
    for org_id, spans in days.items():
        acc.data[org_id]["median_days"] = round(statistics.median(spans), 1)
        acc.data[org_id]["days_count"] = len(spans)


def _cohort(acc: _Acc, period: Period, start: datetime, end: datetime) -> None:
    """Learners in training (``enrolled``) and the completion rate of the period's cohort."""
    rows = cohort_rows(period, start, end)
    acc.add("enrolled", [(r[0], r[3]) for r in rows])
    acc.add("completion_den", [(r[0], r[1]) for r in rows])
    acc.add("completion_num", [(r[0], r[2]) for r in rows])


def _activities(acc: _Acc, start: datetime, end: datetime) -> None:
    learners = members(Role.LEARNER).subquery()
    for measure, keys in (
        ("practical", ("lab_attempted", "lab_passed")),
        ("assessment", ("quiz_count", "quiz_sum")),
    ):
        types = _measure_keys(measure)
        if not types:
            continue
        second = (
            func.sum(cast(ActivityCompletion.completed, Integer))
            if measure == "practical"
            else func.sum(ActivityCompletion.grade)
        )
        conditions = [
            Activity.type.in_(types),
            ActivityCompletion.submitted_at >= start,
            ActivityCompletion.submitted_at < end,
        ]
        if measure == "assessment":
            conditions.append(ActivityCompletion.grade.is_not(None))
        rows = db.session.execute(
            select(learners.c.organization_id, func.count(ActivityCompletion.id), second)
            .join(ActivityCompletion, ActivityCompletion.user_id == learners.c.user_id)
            .join(Activity, Activity.id == ActivityCompletion.activity_id)
            .where(*conditions)
            .group_by(learners.c.organization_id)
        ).all()
        acc.add(keys[0], [(r[0], r[1]) for r in rows])
        acc.add(keys[1], [(r[0], r[2]) for r in rows])


def _programs(acc: _Acc, start: datetime, end: datetime) -> None:
    due = db.session.execute(
        select(
            ProgramAssignment.organization_id,
            func.count(),
            func.count(ProgramAssignment.id).filter(
                ProgramAssignment.completed_at.is_not(None),
                ProgramAssignment.completed_at <= ProgramAssignment.due_at,
            ),
        )
        .where(ProgramAssignment.due_at >= start, ProgramAssignment.due_at < end)
        .group_by(ProgramAssignment.organization_id)
    ).all()
    acc.add("program_due", [(r[0], r[1]) for r in due])
    acc.add("program_on_time", [(r[0], r[2]) for r in due])
    recert = db.session.execute(
        select(
            ProgramAssignment.organization_id,
            func.count(),
            func.count(ProgramAssignment.id).filter(
                ProgramAssignment.completed_at.is_not(None),
                ProgramAssignment.completed_at < end,
                or_(ProgramAssignment.expires_at.is_(None), ProgramAssignment.expires_at >= end),
            ),
        )
        .join(Program, Program.id == ProgramAssignment.program_id)
        .where(Program.validity_months.is_not(None), ProgramAssignment.assigned_at < end)
        .group_by(ProgramAssignment.organization_id)
    ).all()
    acc.add("recert_total", [(r[0], r[1]) for r in recert])
    acc.add("recert_ok", [(r[0], r[2]) for r in recert])


def _skills(acc: _Acc, start: datetime, end: datetime) -> None:
    """Skill levels gained in the period, and the demanded headcount and how much of it is met."""
    _skills_gained(acc, start, end)
    _demand_met(acc, start, end)


def _skills_gained(acc: _Acc, start: datetime, end: datetime) -> None:
    # The period's evidence first (indexed on earned_at, grouped per person), then its learners'
    # organizations: the cost follows the period's evidence, not the number of members.
    gained = (
        select(SkillEvidence.user_id, func.count(SkillEvidence.id).label("n"))
        .where(
            SkillEvidence.kind != EvidenceKind.SELF,
            SkillEvidence.earned_at >= start,
            SkillEvidence.earned_at < end,
        )
        .group_by(SkillEvidence.user_id)
        .subquery()
    )
    acc.add(
        "skills_gained",
        db.session.execute(
            select(Membership.organization_id, func.sum(gained.c.n))
            .join(gained, gained.c.user_id == Membership.user_id)
            .where(Membership.role == Role.LEARNER)
            .group_by(Membership.organization_id)
        ).all(),
    )


def _demand_met(acc: _Acc, start: datetime, end: datetime) -> None:
    # Demand still open at the period's end, and how much of it the organization's people meet.
    demand = (
        select(
            JobRole.organization_id.label("org_id"),
            RoleSkill.skill_id,
            RoleSkill.level,
            func.sum(JobRole.headcount).label("headcount"),
        )
        .join(JobRole, JobRole.id == RoleSkill.role_id)
        .where(JobRole.organization_id.is_not(None), JobRole.needed_by >= start.date())
        .group_by(JobRole.organization_id, RoleSkill.skill_id, RoleSkill.level)
        .subquery()
    )
    held = held_levels(end).subquery()
    rows = db.session.execute(
        select(demand.c.org_id, demand.c.headcount, func.count(func.distinct(held.c.user_id)))
        .select_from(demand)
        .outerjoin(Membership, Membership.organization_id == demand.c.org_id)
        .outerjoin(
            held,
            and_(
                held.c.user_id == Membership.user_id,
                held.c.skill_id == demand.c.skill_id,
                held.c.level >= demand.c.level,
            ),
        )
        .group_by(demand.c.org_id, demand.c.skill_id, demand.c.level, demand.c.headcount)
    ).all()
    acc.add("demand_headcount", [(r[0], r[1]) for r in rows])
    acc.add("demand_met", [(r[0], min(r[1], r[2])) for r in rows])


def _placements(acc: _Acc, period: Period, start: datetime, end: datetime) -> None:
    """Seats of placements starting in the period (known ahead); outcomes recorded in it."""
    offered = db.session.execute(
        select(
            Placement.organization_id,
            func.sum(Placement.seats),
            func.sum(Placement.seats_filled),
        )
        .where(
            Placement.status != PlacementStatus.DRAFT,
            Placement.starts_on >= period.start.date(),
            Placement.starts_on < period.end.date(),
        )
        .group_by(Placement.organization_id)
    ).all()
    acc.add("placements_offered", [(r[0], r[1]) for r in offered])
    acc.add("placements_filled", [(r[0], r[2]) for r in offered])
    outcomes = db.session.execute(
        select(
            Placement.organization_id,
            func.count().filter(PlacementApplication.outcome == PlacementOutcome.COMPLETED),
            func.count().filter(PlacementApplication.hired.is_(True)),
        )
        .join(Placement, Placement.id == PlacementApplication.placement_id)
        .where(
            PlacementApplication.state == ApplicationState.ACCEPTED,
            PlacementApplication.outcome_at >= start,
            PlacementApplication.outcome_at < end,
        )
        .group_by(Placement.organization_id)
    ).all()
    acc.add("placements_completed", [(r[0], r[1]) for r in outcomes])
    acc.add("placements_hired", [(r[0], r[2]) for r in outcomes])


def _surveys(acc: _Acc, start: datetime, end: datetime) -> None:
    rows = db.session.execute(
        select(
            SurveyResponse.organization_id,
            func.count().filter(SurveyResponse.kind == SurveyKind.COURSE_EVALUATION),
            func.sum(SurveyResponse.satisfaction),
            func.sum(SurveyResponse.relevance),
            func.count().filter(SurveyResponse.kind.in_(FOLLOW_UP_KINDS)),
            func.count().filter(
                SurveyResponse.kind.in_(FOLLOW_UP_KINDS), SurveyResponse.skills_used >= 4
            ),
        )
        .where(
            SurveyResponse.organization_id.is_not(None),
            SurveyResponse.created_at >= start,
            SurveyResponse.created_at < end,
        )
        .group_by(SurveyResponse.organization_id)
    ).all()
    for i, key in enumerate(
        ("eval_count", "satisfaction_sum", "relevance_sum", "follow_count", "skills_used_yes"), 1
    ):
        acc.add(key, [(r[0], r[i]) for r in rows])
