"""The demo cluster's monitoring history: 18 months of snapshots, targets, demand, placements,
contributions with their ledger entries and a signed checkpoint, survey answers, and the
conditions every rule looks for, so each kind of signal is open on first start.

The monthly history is generated (realistic, growing figures per partner) and stored as
snapshots, as ``cluster snapshot`` would have stored it; the current month is computed live from
the demo's real courses, completions and programs.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, select

from lms.cluster import funding, placements
from lms.cluster.alerts import evaluate_signals
from lms.cluster.cohort import store_cohort_base
from lms.cluster.models import (
    IndicatorSnapshot,
    IndicatorTarget,
    SurveyKind,
    SurveyResponse,
)
from lms.cluster.periods import month_of
from lms.cluster.seed_history import seed_history
from lms.cluster.surveys import learner_org_id
from lms.domain.models import Activity, Course, CourseStatus, Enrolment
from lms.extensions import db
from lms.models import Membership, Organization, Role, User
from lms.progress.models import ActivityCompletion, CompletionState, CourseCompletion
from lms.settings import set_setting
from lms.skills.demand import RoleData, save_job_role
from lms.skills.gap_models import JobRole, RoleSkill
from lms.skills.models import CourseOutcome, Skill, SkillKind
from lms.skills.services import cluster_framework
from lms.timeutil import utcnow

PDF = b"%PDF-1.4\n% EduCluster demo document\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _org(slug: str) -> Organization | None:
    return db.session.scalar(select(Organization).where(Organization.slug == slug))


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def seed_targets(admin: User) -> None:
    """Targets the cluster admin set: some met, one clearly not. The off-target rule judges the
    last complete month, whose stored snapshot gives Northfield 3 co-designed courses against a
    target of 6 (setting the target to 3 clears the signal, as the browser journey does)."""
    for slug, key, value in [
        ("northfield", "courses_codesigned", 6), ("northfield", "completion_rate", 60),
        ("acme", "program_on_time", 85), ("globex", "placements_filled", 3),
    ]:  # fmt: skip
        org = _org(slug)
        if org is not None:
            db.session.add(IndicatorTarget(organization_id=org.id, indicator=key, target=value,
                                           set_by_id=admin.id))  # fmt: skip


def seed_demand(now: datetime) -> None:
    """A Globex job role no published course reaches (the skills demo has its own roles)."""
    framework = cluster_framework()
    taught = select(CourseOutcome.skill_id)
    uncovered = db.session.scalar(
        select(Skill).where(
            Skill.framework_id == framework.id,
            Skill.kind == SkillKind.SKILL,
            Skill.id.not_in(taught),
        )
    )
    globex = _org("globex")
    if uncovered is not None and globex is not None:
        role = JobRole(organization_id=globex.id, title="Warehouse robotics technician",
                       headcount=8, needed_by=(now + timedelta(days=120)).date())  # fmt: skip
        role.skills = [RoleSkill(skill_id=uncovered.id, level=2)]
        db.session.add(role)
    _seed_acme_demand(framework, now)
    db.session.flush()


#: Acme's demand on first start: skills its co-designed courses teach, so the gap page shows
#: supply, people in training and the courses that close it.
ACME_ROLE = ("Production data technician", 5, 150, (("monitor plant production", 2),
                                                   ("manage quality", 2)))  # fmt: skip


def _seed_acme_demand(framework, now: datetime) -> None:
    """A job role of Acme's, saved through the same service (and checks) as HR's form."""
    acme, hr = _org("acme"), _user("hr@acme.demo")
    title, headcount, days, wanted = ACME_ROLE
    labels = dict(wanted)
    skills = db.session.scalars(
        select(Skill).where(Skill.framework_id == framework.id, Skill.preferred_label.in_(labels))
    ).all()
    if acme is None or not skills:
        return
    save_job_role(
        acme,
        RoleData(title=title, headcount=headcount, needed_by=(now + timedelta(days=days)).date(),
                 description="Keeps line data clean and flags quality drifts to the shift lead.",
                 skills=[(s.id, labels[s.preferred_label]) for s in skills]),
        hr, now.date(),
    )  # fmt: skip


def seed_problem_conditions(now: datetime) -> None:
    """What the remaining rules look for: a sign-off waiting, inactive learners, a hard lab."""
    waiting = db.session.scalar(select(Course).where(Course.status == CourseStatus.IN_REVIEW))
    if waiting is not None:
        waiting.updated_at = now - timedelta(days=19)
    # Two enrolments nobody has started date from six weeks ago (no new enrolment is made).
    idle = db.session.scalars(
        select(Enrolment)
        .join(Membership, and_(Membership.user_id == Enrolment.user_id,
                               Membership.role == Role.LEARNER))
        .where(
            Enrolment.status == "active",
            ~select(CourseCompletion.id)
            .where(
                CourseCompletion.user_id == Enrolment.user_id,
                CourseCompletion.course_id == Enrolment.course_id,
                CourseCompletion.last_activity_at.is_not(None),
            )
            .exists(),
        )
        .order_by(Enrolment.id)
        .limit(2)
    ).all()  # fmt: skip
    for enrolment in idle:
        enrolment.enrolled_at = now - timedelta(days=45)
    _seed_hard_lab(now)


def _seed_hard_lab(now: datetime) -> None:
    """Learners failing a lab this week, enough for the low-pass-rate rule to see it."""
    registry = current_app.extensions["lms.activities"]
    practical = [t.key for t in registry if getattr(t, "cluster_measure", "") == "practical"]
    # Fifteen enrolled learners who have not tried a lab yet struggled with it this week (on the
    # lab with the most such learners; nobody is enrolled anew).
    enrolled_untried = (
        select(func.count(Enrolment.id))
        .where(
            Enrolment.course_id == Activity.course_id,
            ~select(ActivityCompletion.id)
            .where(
                ActivityCompletion.activity_id == Activity.id,
                ActivityCompletion.user_id == Enrolment.user_id,
            )
            .exists(),
        )
        .scalar_subquery()
    )
    lab = db.session.scalar(
        select(Activity)
        .where(Activity.type.in_(practical or ["-"]))
        .order_by(enrolled_untried.desc(), Activity.id)
        .limit(1)
    )
    if lab is None:
        return
    tried = select(ActivityCompletion.user_id).where(ActivityCompletion.activity_id == lab.id)
    learners = db.session.scalars(
        select(Enrolment.user_id)
        .where(Enrolment.course_id == lab.course_id, Enrolment.user_id.not_in(tried))
        .order_by(Enrolment.user_id)
        .limit(15)
    ).all()
    for i, user_id in enumerate(learners):
        db.session.add(
            ActivityCompletion(
                user_id=user_id,
                activity_id=lab.id,
                course_id=lab.course_id,
                attempts=3,
                submitted_at=now - timedelta(days=2 + i % 5),
                completed=False,
                grade=40.0,
            )  # fmt: skip
        )
    db.session.flush()


def seed_placements(now: datetime) -> None:
    """An Acme internship starting soon with free seats, a later Globex project, and a finished
    Globex dual-study placement with an evaluation and a hire."""
    acme, globex = _org("acme"), _org("globex")
    hr_acme, hr_globex = _user("hr@acme.demo"), _user("hr@globex.demo")
    mentor_acme, mentor_globex = _user("trainer@acme.demo"), _user("trainer@globex.demo")
    student = _user("student@uni.demo")
    if not all([acme, globex, hr_acme, hr_globex, student]):
        return
    skills = db.session.execute(
        select(CourseOutcome.skill_id, CourseOutcome.level).distinct().limit(2)
    ).all()
    pairs = [(s, lv) for s, lv in skills] or []
    if not pairs:
        return
    today = now.date()
    placements.publish_placement(acme, placements.PlacementData(
        title="Quality lab internship", kind="internship",
        description="Measure machined parts, run gauge studies and report to the quality lead.",
        location="Acme Plant 2, Quality lab", remote=False, starts_on=today + timedelta(days=20),
        ends_on=today + timedelta(days=110), seats=3,
        mentor_id=mentor_acme.id if mentor_acme else None, skills=pairs[:1]), hr_acme, now)  # fmt: skip
    placements.publish_placement(globex, placements.PlacementData(
        title="Data for logistics: company project", kind="company_project",
        description="Forecast pallet flows from warehouse data with Python.", location="",
        remote=True, starts_on=today + timedelta(days=60), ends_on=today + timedelta(days=150),
        seats=2, mentor_id=mentor_globex.id if mentor_globex else None, skills=pairs),
        hr_globex, now)  # fmt: skip
    past = placements.publish_placement(globex, placements.PlacementData(
        title="Warehouse automation dual study", kind="dual_study",
        description="Two days a week in the automated warehouse.", location="Globex hub",
        remote=False, starts_on=today, ends_on=today + timedelta(days=1), seats=2,
        mentor_id=mentor_globex.id if mentor_globex else None, skills=pairs[:1]),
        hr_globex, now)  # fmt: skip
    _seed_finished_placement(past, student, pairs[0], hr_globex, mentor_globex or hr_globex, now)


def _seed_finished_placement(past, student, skill_level, hr, mentor, now: datetime) -> None:
    """The student applied, was accepted, evaluated by the mentor, completed and was hired."""
    today = now.date()
    application = placements.apply_to_placement(
        past, student, "I study logistics and want to see automated storage in practice.", now
    )
    placements.decide_application(application, "accept", "Welcome to the hub!", hr, now)
    db.session.refresh(application)
    placements.evaluate_placement_skill(
        application, skill_level[0], skill_level[1], "Ran the pick-rate analysis on her own.",
        mentor, now,
    )  # fmt: skip
    # It ran last spring: move its dates back, then record the outcome.
    past.starts_on, past.ends_on = today - timedelta(days=200), today - timedelta(days=20)
    placements.record_outcome(application, "completed", True, now)
    application.outcome_at = now - timedelta(days=15)
    db.session.flush()


def seed_funding(now: datetime) -> None:
    """Contributions and spending over 18 months, each on the ledger, and a checkpoint."""
    entries = [
        ("acme", "contribution", "money", "Dual study programme", "40000", "", "", 520),
        ("globex", "contribution", "staff_hours", "Dual study programme", "", "160", "55", 410),
        ("acme", "contribution", "equipment", "Sensor lab", "12500", "", "", 300),
        ("ril", "contribution", "equipment", "Sensor lab", "7000", "", "", 240),
        ("northfield", "contribution", "staff_hours", "Sensor lab", "", "220", "48", 200),
        ("northfield", "spending", "money", "Sensor lab", "9800", "", "", 120),
        ("northfield", "spending", "money", "Dual study programme", "15000", "", "", 60),
    ]
    for slug, direction, kind, program, amount, hours, rate, days_ago in entries:
        org = _org(slug)
        admin = _user("admin@cluster.demo")
        if org is None or admin is None:
            continue
        funding.record_funding(org, funding.FundingData(
            direction=direction, kind=kind, program=program,
            description=f"{program}: {kind.replace('_', ' ')} from {org.name}",
            currency=funding.cluster_currency(), amount=amount, hours=hours, hourly_rate=rate,
            occurred_on=(now - timedelta(days=days_ago)).date(),
            document_name=f"{slug}-{program.lower().replace(' ', '-')}.pdf",
            document_type="application/pdf", document=PDF), admin, now)  # fmt: skip
    funding.create_checkpoint(now)


def seed_surveys(now: datetime) -> None:
    """Evaluations from the demo's completers and follow-ups from employees and HR."""
    rng = random.Random(7)
    done = db.session.execute(
        select(CourseCompletion.user_id, CourseCompletion.course_id)
        .where(CourseCompletion.state == CompletionState.COMPLETED)
        .order_by(CourseCompletion.id)
    ).all()
    comments = ["The labs were the best part.", "More time for the quiz would help.",
                "Directly useful on the line.", "", "Good pace.", ""]  # fmt: skip
    for i, (user_id, course_id) in enumerate(done):
        user = db.session.get(User, user_id)
        org_id = learner_org_id(user)
        db.session.add(SurveyResponse(
            kind=SurveyKind.COURSE_EVALUATION, course_id=course_id, user_id=user_id,
            respondent_id=user_id, organization_id=org_id, satisfaction=rng.choice([4, 4, 5, 3]),
            relevance=rng.choice([3, 4, 5]), comment=comments[i % len(comments)],
            created_at=now - timedelta(days=rng.randint(1, 25))))  # fmt: skip
        if i % 2 == 0:
            db.session.add(SurveyResponse(
                kind=SurveyKind.FOLLOW_UP, course_id=course_id, user_id=user_id,
                respondent_id=user_id, organization_id=org_id, skills_used=rng.choice([3, 4, 5]),
                created_at=now - timedelta(days=rng.randint(1, 20))))  # fmt: skip
    db.session.flush()


def seed_cluster() -> None:
    """The whole monitoring demo (idempotent: skipped when the history exists)."""
    if db.session.scalar(select(func.count(IndicatorSnapshot.id))):
        return
    now = utcnow()
    admin = _user("admin@cluster.demo")
    seed_history(now)
    store_cohort_base(month_of(now), now)  # as `cluster snapshot` would at the month's start
    if admin is not None:
        seed_targets(admin)
    seed_demand(now)
    seed_problem_conditions(now)
    seed_placements(now)
    seed_funding(now)
    seed_surveys(now)
    # The demo cluster is strict about overdue programs.
    set_setting("cluster.overdue_share", "15")
    set_setting("cluster.lab_pass_rate", "50")
    db.session.flush()
    evaluate_signals(now)
