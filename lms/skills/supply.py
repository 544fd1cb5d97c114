"""Supply: earning skill evidence, and the level each person holds now.

Earning runs in the signal handlers of :mod:`lms.signals`, so a skill is earned in the
same request or task as the completion that causes it. Services flush, never commit.

Precedence of the current level (:func:`held_levels`): the newest trainer validation that has not
lapsed; otherwise the highest level earned by completing a course or passing a lab or quiz that
has not lapsed. Self-assessments are shown apart and never count as held.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import Select, and_, exists, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from lms import signals
from lms.domain.models import Activity, Course
from lms.errors import DomainError
from lms.extensions import db
from lms.models import User
from lms.progress import rules
from lms.progress.models import Program, ProgramAssignment, ProgramCourse
from lms.skills.gap_models import EARNED_KINDS, EVIDENCE_LABELS, EvidenceKind, SkillEvidence
from lms.skills.models import ActivityOutcome, CourseOutcome, Framework, ProficiencyLevel, Skill
from lms.timeutil import utcnow

COMMENT_MAX = 2000


def _current(now: datetime):
    return or_(SkillEvidence.expires_at.is_(None), SkillEvidence.expires_at > now)


def _validated(now: datetime, scope: list):
    """The newest current validation per person and skill."""
    ranked = (
        select(
            SkillEvidence.user_id,
            SkillEvidence.skill_id,
            SkillEvidence.level,
            func.row_number()
            .over(
                partition_by=(SkillEvidence.user_id, SkillEvidence.skill_id),
                order_by=(SkillEvidence.earned_at.desc(), SkillEvidence.id.desc()),
            )
            .label("rn"),
        )
        .where(SkillEvidence.kind == EvidenceKind.VALIDATION, _current(now), *scope)
        .subquery()
    )
    return select(
        ranked.c.user_id, ranked.c.skill_id, ranked.c.level, literal("validated").label("basis")
    ).where(ranked.c.rn == 1)


def _earned(now: datetime, scope: list):
    """The highest current earned level per person and skill that no validation outranks."""
    other = aliased(SkillEvidence)
    return (
        select(
            SkillEvidence.user_id,
            SkillEvidence.skill_id,
            func.max(SkillEvidence.level).label("level"),
            literal("earned").label("basis"),
        )
        .where(
            SkillEvidence.kind.in_(EARNED_KINDS),
            _current(now),
            *scope,
            ~exists().where(
                other.user_id == SkillEvidence.user_id,
                other.skill_id == SkillEvidence.skill_id,
                other.kind == EvidenceKind.VALIDATION,
                or_(other.expires_at.is_(None), other.expires_at > now),
            ),
        )
        .group_by(SkillEvidence.user_id, SkillEvidence.skill_id)
    )


def held_levels(now: datetime, users=None, skills=None) -> Select:
    """(user_id, skill_id, level, basis) of every skill held now, one row per person and skill.

    Set-based (a window function and a grouped union): callers join it as a subquery or CTE, so
    the number of queries never grows with the number of people. ``users`` and ``skills``
    (subqueries or lists of ids) narrow the evidence read.
    """
    scope = []
    if users is not None:
        scope.append(SkillEvidence.user_id.in_(users))
    if skills is not None:
        scope.append(SkillEvidence.skill_id.in_(skills))
    return union_all(_validated(now, scope), _earned(now, scope))


# --- earning ---------------------------------------------------------------------------------
def _validity_end(user_id: int, course_id: int, completed_at: datetime) -> datetime | None:
    """When evidence from completing ``course_id`` lapses: the shortest validity of the person's
    programs that contain the course (re-certification), or never."""
    months = db.session.scalar(
        select(func.min(Program.validity_months))
        .join(ProgramCourse, ProgramCourse.program_id == Program.id)
        .join(ProgramAssignment, ProgramAssignment.program_id == Program.id)
        .where(
            ProgramCourse.course_id == course_id,
            ProgramAssignment.user_id == user_id,
            Program.validity_months.is_not(None),
        )
    )
    if not months:
        return None
    y, m, d = rules.add_months(completed_at.year, completed_at.month, completed_at.day, months)
    return completed_at.replace(year=y, month=m, day=d)


def _record(user_id: int, rows: list, kind: str, when: datetime, **source) -> int:
    """Add evidence for (skill_id, level) rows unless this very event was recorded already."""
    if not rows:
        return 0
    seen = set(
        db.session.scalars(
            select(SkillEvidence.skill_id).where(
                SkillEvidence.user_id == user_id,
                SkillEvidence.kind == kind,
                SkillEvidence.earned_at == when,
                *(getattr(SkillEvidence, k) == v for k, v in source.items() if k.endswith("_id")),
            )
        )
    )
    added = 0
    for skill_id, level in rows:
        if skill_id in seen:
            continue
        db.session.add(
            SkillEvidence(
                user_id=user_id, skill_id=skill_id, kind=kind, level=level, earned_at=when, **source
            )
        )
        added += 1
    db.session.flush()
    return added


def earn_from_course(user: User, course: Course, completed_at: datetime | None) -> int:
    """Evidence for every outcome of ``course`` that ``user`` has just completed."""
    when = completed_at or utcnow()
    outcomes = db.session.execute(
        select(CourseOutcome.skill_id, CourseOutcome.level).where(
            CourseOutcome.course_id == course.id
        )
    ).all()
    return _record(
        user.id,
        outcomes,
        EvidenceKind.COURSE,
        when,
        course_id=course.id,
        expires_at=_validity_end(user.id, course.id, when),
    )


def earn_from_activity(
    user: User, activity: Activity, completed_at: datetime | None, memo: dict | None = None
) -> int:
    """Evidence for every outcome of a lab or quiz ``user`` has just passed.

    ``memo``: the batch's memo (see :mod:`lms.signals`), which keeps the activity's outcomes.
    """
    memo = {} if memo is None else memo
    key = ("lms.skills.outcomes", activity.id)
    if key not in memo:
        memo[key] = db.session.execute(
            select(ActivityOutcome.skill_id, ActivityOutcome.level).where(
                ActivityOutcome.activity_id == activity.id
            )
        ).all()
    if not memo[key]:
        return 0
    when = completed_at or utcnow()
    return _record(
        user.id,
        memo[key],
        EvidenceKind.ACTIVITY,
        when,
        course_id=activity.course_id,
        activity_id=activity.id,
        expires_at=_validity_end(user.id, activity.course_id, when),
    )


def _on_course_completed(sender, user, course, completion, **_) -> None:
    earn_from_course(user, course, completion.completed_at)


def _on_activity_completed(sender, user, activity, completion, memo=None, **_) -> None:
    if completion.completed and not completion.failed:
        earn_from_activity(user, activity, completion.completed_at, memo)


def connect_signals() -> None:
    """Earn evidence inside the transaction of each completion (idempotent)."""
    signals.course_completed.connect(_on_course_completed)
    signals.activity_completed.connect(_on_activity_completed)


# --- validations and self-assessments --------------------------------------------------------
def _check_level(skill: Skill, level: int) -> None:
    ranks = db.session.scalars(
        select(ProficiencyLevel.rank).where(ProficiencyLevel.framework_id == skill.framework_id)
    ).all()
    if level not in ranks:
        names = ", ".join(skill.framework.level_name(r) for r in sorted(ranks))
        raise DomainError(f"Choose one of the levels of this skill's scale ({names}).", "level")


def validate_skill(
    user: User,
    skill: Skill,
    level: int,
    by: User,
    comment: str,
    valid_until: date | None = None,
    now: datetime | None = None,
) -> SkillEvidence:
    """A trainer's or mentor's validation of ``user``'s level (it outranks earned levels)."""
    now = now or utcnow()
    _check_level(skill, level)
    comment = comment.strip()
    if not comment:
        raise DomainError("Say what you saw that shows this level.", "comment")
    if len(comment) > COMMENT_MAX:
        raise DomainError(f"Keep the comment under {COMMENT_MAX} characters.", "comment")
    if valid_until is not None and valid_until <= now.date():
        raise DomainError("The validation must stay valid past today.", "valid_until")
    row = SkillEvidence(
        user_id=user.id,
        skill_id=skill.id,
        kind=EvidenceKind.VALIDATION,
        level=level,
        given_by_id=by.id,
        comment=comment,
        earned_at=now,
        expires_at=datetime.combine(valid_until, time.max) if valid_until else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


def assess_self(user: User, skill: Skill, level: int, now: datetime | None = None) -> SkillEvidence:
    """The person's own view of their level (shown apart, never counted as held)."""
    _check_level(skill, level)
    row = SkillEvidence(
        user_id=user.id,
        skill_id=skill.id,
        kind=EvidenceKind.SELF,
        level=level,
        earned_at=now or utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    return row


# --- the profile -----------------------------------------------------------------------------
@dataclass
class ProfileSkill:
    """One skill of a person's profile: current level, basis, evidence newest first."""

    skill_id: int
    uri: str
    label: str
    framework: str
    level: int | None = None
    level_name: str = ""
    basis: str = ""  # "validated" | "earned" | "" (only self-assessed)
    self_level: int | None = None
    self_level_name: str = ""
    evidence: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        """The API form of this skill."""
        return {
            "uri": self.uri,
            "label": self.label,
            "framework": self.framework,
            "level": self.level,
            "level_name": self.level_name or None,
            "basis": self.basis or None,
            "self_assessed_level": self.self_level,
            "evidence": [
                {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in e.items()}
                for e in self.evidence
            ],
        }


def _evidence_rows(user_id: int) -> list:
    """(evidence, skill, framework name, course title, activity title, giver's name), newest
    first (one query)."""
    giver = aliased(User)
    return db.session.execute(
        select(SkillEvidence, Skill, Framework.name, Course.title, Activity.title, giver.name)
        .join(Skill, Skill.id == SkillEvidence.skill_id)
        .join(Framework, Framework.id == Skill.framework_id)
        .outerjoin(Course, Course.id == SkillEvidence.course_id)
        .outerjoin(Activity, Activity.id == SkillEvidence.activity_id)
        .outerjoin(giver, giver.id == SkillEvidence.given_by_id)
        .where(SkillEvidence.user_id == user_id)
        .order_by(SkillEvidence.earned_at.desc(), SkillEvidence.id.desc())
    ).all()


def _level_names(framework_ids: set[int]) -> dict[tuple[int, int], str]:
    """{(framework, rank): level name} of the frameworks' scales (one query)."""
    return {
        (r.framework_id, r.rank): r.name
        for r in db.session.execute(
            select(
                ProficiencyLevel.framework_id, ProficiencyLevel.rank, ProficiencyLevel.name
            ).where(ProficiencyLevel.framework_id.in_(framework_ids))
        )
    }


def _evidence_item(ev: SkillEvidence, level_name: str, sources: tuple, now: datetime) -> dict:
    """One line of evidence on the profile; ``sources``: (course, activity, giver)."""
    course_title, activity_title, giver_name = sources
    return {
        "kind": ev.kind,
        "kind_label": EVIDENCE_LABELS.get(EvidenceKind(ev.kind), ev.kind),
        "level": ev.level,
        "level_name": level_name,
        "source": activity_title or course_title or giver_name or "",
        "course": course_title,
        "given_by": giver_name,
        "comment": ev.comment,
        "earned_at": ev.earned_at,
        "expires_at": ev.expires_at,
        "lapsed": bool(ev.expires_at and ev.expires_at <= now),
    }


def skill_profile(user_id: int, now: datetime | None = None) -> list[ProfileSkill]:
    """Every skill ``user_id`` has evidence for, with the level held now (at most three queries)."""
    now = now or utcnow()
    rows = _evidence_rows(user_id)
    if not rows:
        return []  # no evidence, no profile: the levels and the scales are not needed
    # Only this person's evidence is ranked (the filter inside, not on the result).
    held = held_levels(now, users=[user_id]).subquery()
    levels = {r.skill_id: (r.level, r.basis) for r in db.session.execute(select(held))}
    scale = _level_names({skill.framework_id for _, skill, *_ in rows})
    profile: dict[int, ProfileSkill] = {}
    for ev, skill, framework, *sources in rows:
        item = profile.get(skill.id)
        if item is None:
            level, basis = levels.get(skill.id, (None, ""))
            level_name = scale.get((skill.framework_id, level), "") if level else ""
            item = profile[skill.id] = ProfileSkill(
                skill.id, skill.uri, skill.preferred_label, framework, level, level_name, basis
            )
        level_name = scale.get((skill.framework_id, ev.level), str(ev.level))
        # The newest self-assessment is the current one.
        if ev.kind == EvidenceKind.SELF and item.self_level is None:
            item.self_level, item.self_level_name = ev.level, level_name
        item.evidence.append(_evidence_item(ev, level_name, tuple(sources), now))
    return sorted(
        profile.values(),
        key=lambda p: (p.level is None, -(p.level or 0), p.label.lower()),
    )


def held_filter(now: datetime, skill_id: int, level: int) -> Select:
    """Ids of the people who hold ``skill_id`` at ``level`` or above now."""
    held = held_levels(now, skills=[skill_id]).subquery()
    return select(held.c.user_id).where(and_(held.c.skill_id == skill_id, held.c.level >= level))
