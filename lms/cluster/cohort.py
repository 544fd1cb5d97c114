"""The cohort behind the completion rate and the learners in training, per partner.

A period's cohort is the enrolments of the year before its end. Past periods count it in one
grouped scan; the running month adds its own rows to a base stored when it began
(:func:`store_cohort_base`, run by ``cluster snapshot``), so its cost follows the month's
activity rather than the history.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from lms.cluster.models import CohortBase
from lms.cluster.periods import Period
from lms.domain.models import Enrolment
from lms.extensions import db
from lms.models import Membership, Role
from lms.progress.models import CompletionState, CourseCompletion


def members(role: Role):
    """(user id, organization id) of the memberships holding ``role``."""
    return select(Membership.user_id, Membership.organization_id).where(Membership.role == role)


#: The cohort of a period: the enrolments of the year before the period's end.
COHORT = timedelta(days=365)


def cohort_counts(lower: datetime, start: datetime, end: datetime) -> list[tuple]:
    """Per organization: (id, enrolments from ``lower`` to ``end``, of them completed before
    ``end``, their distinct learners not withdrawn before ``start``), in one grouped scan."""
    learners = members(Role.LEARNER).subquery()
    return db.session.execute(
        select(
            learners.c.organization_id,
            func.count(Enrolment.id),
            func.count(CourseCompletion.id),
            func.count(func.distinct(Enrolment.user_id)).filter(
                or_(Enrolment.withdrawn_at.is_(None), Enrolment.withdrawn_at >= start)
            ),
        )
        .join(Enrolment, Enrolment.user_id == learners.c.user_id)
        .outerjoin(
            CourseCompletion,
            and_(
                CourseCompletion.user_id == Enrolment.user_id,
                CourseCompletion.course_id == Enrolment.course_id,
                CourseCompletion.state == CompletionState.COMPLETED,
                CourseCompletion.completed_at < end,
            ),
        )
        .where(Enrolment.enrolled_at >= lower, Enrolment.enrolled_at < end)
        .group_by(learners.c.organization_id)
    ).all()


def cohort_since(lower: datetime, start: datetime, end: datetime) -> list[tuple]:
    """What the month adds to its stored base, per organization: (id, its enrolments, cohort
    completions recorded in it, its new learners). Reads only rows of ``start``..``end`` (indexed
    on enrolled_at and completed_at), so the cost follows the month's activity, not history."""
    learners = members(Role.LEARNER).subquery()
    earlier = aliased(Enrolment)
    in_base = (
        select(earlier.id)
        .where(
            earlier.user_id == Enrolment.user_id,
            earlier.enrolled_at >= lower,
            earlier.enrolled_at < start,
            or_(earlier.withdrawn_at.is_(None), earlier.withdrawn_at >= start),
        )
        .exists()
    )
    enrolled = db.session.execute(
        select(
            learners.c.organization_id,
            func.count(Enrolment.id),
            func.count(func.distinct(Enrolment.user_id)).filter(~in_base),
        )
        .join(Enrolment, Enrolment.user_id == learners.c.user_id)
        .where(Enrolment.enrolled_at >= start, Enrolment.enrolled_at < end)
        .group_by(learners.c.organization_id)
    ).all()
    completed = dict(
        db.session.execute(
            select(learners.c.organization_id, func.count(CourseCompletion.id))
            .join(CourseCompletion, CourseCompletion.user_id == learners.c.user_id)
            .join(
                Enrolment,
                and_(
                    Enrolment.user_id == CourseCompletion.user_id,
                    Enrolment.course_id == CourseCompletion.course_id,
                ),
            )
            .where(
                CourseCompletion.state == CompletionState.COMPLETED,
                CourseCompletion.completed_at >= start,
                CourseCompletion.completed_at < end,
                Enrolment.enrolled_at >= lower,
                Enrolment.enrolled_at < end,
            )
            .group_by(learners.c.organization_id)
        ).all()
    )
    out = {org: [org, n, completed.pop(org, 0), new] for org, n, new in enrolled}
    out.update({org: [org, 0, n, 0] for org, n in completed.items()})
    return [tuple(row) for row in out.values()]


def stored_cohort_base(month: str) -> dict[int, tuple[int, int, int]] | None:
    """The stored base of ``month``: {organization id: (enrolments, completed, learners)}, or
    None when it was never taken (one query)."""
    rows = db.session.scalars(select(CohortBase).where(CohortBase.month == month)).all()
    if not any(r.scope == "cluster" for r in rows):
        return None
    return {
        r.organization_id: (r.enrolments, r.completed, r.learners)
        for r in rows
        if r.scope != "cluster" and r.organization_id is not None
    }


def cohort_rows(period: Period, start: datetime, end: datetime) -> list[tuple]:
    """Per organization: (id, cohort enrolments, of them completed, learners in training).

    A period still running counts its cohort so far: enrolments since a year before its end.
    For the running month whose base is stored, the base plus what the month added; any other
    period in one scan of its cohort.
    """
    lower = period.end - COHORT
    base = None
    if period.kind == "month" and end < period.end:
        base = stored_cohort_base(period.name)
    if base is None:
        rows = cohort_counts(lower, start, end)
    else:
        totals = {org: list(values) for org, values in base.items()}
        for org, enrolments, completed, learners in cohort_since(lower, start, end):
            row = totals.setdefault(org, [0, 0, 0])
            row[0] += enrolments
            row[1] += completed
            row[2] += learners
        rows = [(org, n, done, people) for org, (n, done, people) in totals.items()]
    return rows


def store_cohort_base(month: Period, now: datetime) -> int:
    """Store the cohort base of ``month``, a month that has begun, once; a second run, or a
    concurrent one, writes nothing. Returns the rows written. Flushes."""
    if now < month.start:
        return 0  # its enrolments before it are not final yet
    if db.session.scalar(select(CohortBase.id).where(CohortBase.month == month.name).limit(1)):
        return 0
    rows = cohort_counts(month.end - COHORT, month.start, month.start)
    written = 0
    try:
        with db.session.begin_nested():
            for org_id, enrolments, completed, learners in rows:
                db.session.add(
                    CohortBase(month=month.name, scope=f"org:{org_id}", organization_id=org_id,
                               enrolments=enrolments, completed=completed, learners=learners,
                               taken_at=now)
                )  # fmt: skip
                written += 1
            db.session.add(
                CohortBase(month=month.name, scope="cluster", organization_id=None,
                           enrolments=sum(r[1] for r in rows), completed=sum(r[2] for r in rows),
                           learners=sum(r[3] for r in rows), taken_at=now)
            )  # fmt: skip
    except IntegrityError:
        return 0  # a concurrent run stored it first
    return written + 1
