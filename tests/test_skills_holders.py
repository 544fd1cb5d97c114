"""The stored counts of skill holders (the gap's supply) stay equal to a recount from the
evidence: after earning on completion, a validation, a lapse, a membership change and a deleted
person; the repair CLI rebuilds them."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select, update

from lms.domain.models import Enrolment
from lms.extensions import db
from lms.models import Membership, Role, User
from lms.progress.models import CourseCompletion
from lms.skills.gap import GapFilters, gap_rows
from lms.skills.gap_models import JobRole, RoleSkill, SkillEvidence
from lms.skills.holders import (
    SkillHolderCount,
    recounted,
    stored_counts,
    sync_lapsed,
)
from lms.skills.supply import held_filter, validate_skill
from lms.timeutil import utcnow
from tests.test_skills_gap import _complete, _course_with_outcome, _org, _user


def _agree(now=None) -> None:
    _holdings, counts = recounted(now)
    assert stored_counts() == counts


def _live_supply(org_id: int, skill_id: int, level: int, now) -> int:
    """People of the organization at or above ``level`` now, counted from the evidence."""
    return db.session.scalar(
        select(func.count(func.distinct(Membership.user_id))).where(
            Membership.organization_id == org_id,
            Membership.user_id.in_(held_filter(now, skill_id, level)),
        )
    )


def test_stored_counts_equal_a_recount_through_every_change(demo, runner):
    with demo.app_context():
        _agree()  # as the demo's seeding (through the services) left them
        marco, trainer = _user("employee@acme.demo"), _user("trainer@acme.demo")
        acme = _org("acme")
        course, outcome = _course_with_outcome()
        skill = outcome.skill
        # Earning: in the same transaction as the completion that causes it.
        _complete(marco, course, trainer)
        db.session.commit()
        _agree()
        # Enrolling someone puts them in the pipeline for the course's outcome levels.
        newcomer = _user("student@uni.demo")
        if (
            db.session.scalar(
                select(Enrolment.id).where(
                    Enrolment.user_id == newcomer.id, Enrolment.course_id == course.id
                )
            )
            is None
        ):
            db.session.add(Enrolment(user_id=newcomer.id, course_id=course.id))
            db.session.commit()
        pipeline = {k: v for k, v in stored_counts().items() if k[3] == "pipeline"}
        assert any(k[2] == outcome.skill_id for k in pipeline)
        _agree()
        # A bulk statement (as a re-certification reset writes it) reopens the completion.
        db.session.execute(
            update(CourseCompletion)
            .where(CourseCompletion.user_id == marco.id, CourseCompletion.course_id == course.id)
            .values(state="not_started", completed_at=None)
        )
        db.session.commit()
        _agree()
        # A validation above the earned level, valid for two more days.
        validate_skill(marco, skill, 4, trainer, "Ran the audit alone",
                       valid_until=date.today() + timedelta(days=2))  # fmt: skip
        db.session.commit()
        _agree()
        # A membership change moves the person's skills to the new organization's counts.
        globex = _org("globex")
        db.session.add(Membership(user_id=marco.id, organization_id=globex.id, role=Role.LEARNER))
        db.session.commit()
        _agree()
        now = utcnow()
        # Lapse: five days on, the validation no longer counts; the gap sees it before any job
        # ran, and the daily sync stores it.
        later = now + timedelta(days=5)
        for level in (1, 2, 3, 4):
            assert _supply(acme.id, skill.id, level, later) == _live_supply(
                acme.id, skill.id, level, later
            )
        assert _supply(acme.id, skill.id, 4, now) == _live_supply(acme.id, skill.id, 4, now)
        assert _live_supply(acme.id, skill.id, 4, later) < _live_supply(acme.id, skill.id, 4, now)
        assert sync_lapsed(later) >= 1
        db.session.commit()
        _agree(later)
        # A deleted person leaves every count.
        held_rows = db.session.scalar(
            select(func.count(SkillEvidence.id)).where(SkillEvidence.user_id == marco.id)
        )
        assert held_rows
        db.session.delete(db.session.get(User, marco.id))
        db.session.commit()
        _agree(later)
    # The repair CLI rebuilds the same counts from scratch.
    with demo.app_context():
        before = stored_counts()
        db.session.execute(SkillHolderCount.__table__.update().values(people=99))
        db.session.commit()
    result = runner.invoke(args=["skills", "recount-holders"])
    assert result.exit_code == 0 and "recounted" in result.output
    with demo.app_context():
        assert stored_counts() == before


def _supply(org_id: int, skill_id: int, level: int, now) -> int:
    """The gap's supply of (skill, level) for the organization, as the page shows it."""

    rows = gap_rows(org_id, GapFilters(skill_id=skill_id), now)
    by_level = {r.level: r.supply for r in rows}
    if level in by_level:
        return by_level[level]
    # Not demanded at that level: add a role asking for it, read the gap, and take it away.
    role = JobRole(organization_id=org_id, title="Probe", headcount=1,
                   needed_by=date.today() + timedelta(days=60))  # fmt: skip
    role.skills = [RoleSkill(skill_id=skill_id, level=level)]
    db.session.add(role)
    db.session.flush()
    try:
        return {r.level: r.supply for r in gap_rows(org_id, GapFilters(skill_id=skill_id), now)}[
            level
        ]
    finally:
        db.session.delete(role)
        db.session.flush()
