"""Stored counts behind the skills gap, per organization (and the cluster), skill and level:
who *holds* a skill at each level, and who is in the *pipeline* for a level by a date.

The gap's supply and pipeline must not cost more with more employees, so they are read from
:class:`SkillHolderCount` instead of ranking every person's evidence and enrolments per request:

- kind ``held``: how many people of a scope hold the skill at exactly ``level`` now (supply adds
  up the levels at or above the demanded one);
- kind ``pipeline``: how many people of a scope, below ``level``, are enrolled (active, not
  completed) in a published course whose outcome reaches it, by the earliest due date of an open
  program assigning them that course (``due_on``; :data:`NO_DUE` when no program sets one), so the
  pipeline of a demand is the sum of the rows due on or before its date.

How they stay right:

- :class:`SkillHolding` keeps, per person, the rows the counts hold for them (per skill, scope,
  kind and level). :func:`sync_holdings` recomputes a few people's rows from the evidence,
  memberships, enrolments, completions and programs, compares, and moves the counts by the
  difference; it is idempotent.
- It runs in the same transaction as each change that can move them: a session hook collects the
  people whose evidence (earning on completion, a validation), memberships, enrolments,
  completions or program assignments change in a flush, and everyone enrolled in a course whose
  outcomes or status change, and syncs them right after it; a deleted person's rows are taken out
  of the counts before the row goes.
- Evidence lapses by time (re-certification), with no write at that moment: readers add the
  difference of the people whose evidence lapsed since the last sync (:func:`lapse_correction`,
  a handful), and ``flask --app app skills sync-holders`` (cron, daily) stores it.
- ``flask --app app skills recount-holders`` rebuilds everything (repair, and after bulk loads
  such as ``lms seed-scale``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime

from sqlalchemy import (
    and_,
    delete,
    func,
    or_,
    select,
    update,
)

from lms.domain.models import Course, CourseStatus, Enrolment, EnrolmentStatus
from lms.extensions import db
from lms.models import Membership
from lms.progress.assignments import OPEN_STATUSES
from lms.progress.models import CompletionState, CourseCompletion, ProgramAssignment, ProgramCourse
from lms.settings import get_setting, set_setting
from lms.skills.gap_models import SkillEvidence
from lms.skills.holder_models import (
    CLUSTER_SCOPE,
    NO_DUE,
    HoldingKind,
    SkillHolderCount,
    SkillHolding,
    org_scope,
)
from lms.skills.models import CourseOutcome
from lms.skills.supply import held_levels
from lms.timeutil import utcnow

SYNCED_SETTING = "skills.holders_synced_until"
_TOUCHED = "skills.holders_touched"
_GONE = "skills.holders_gone"


# --- computing what the counts should hold -------------------------------------------------------
Key = tuple[int, int, str, str, int]  # user, skill, scope, kind, level
Value = tuple[int | None, date | None]  # organization, due date


def _organizations(user_ids, conn) -> dict[int, set[int]]:
    orgs: dict[int, set[int]] = defaultdict(set)
    for user_id, org_id in conn.execute(
        select(Membership.user_id, Membership.organization_id).where(
            Membership.user_id.in_(user_ids)
        )
    ):
        orgs[user_id].add(org_id)
    return orgs


def _held(user_ids, now: datetime, conn) -> dict[tuple[int, int], int]:
    """{(user, skill): level held now}."""
    held = held_levels(now, users=user_ids).subquery()
    return {
        (u, s): level
        for u, s, level in conn.execute(select(held.c.user_id, held.c.skill_id, held.c.level))
    }


def _training(user_ids, held: dict, conn) -> dict[tuple[int, int, int], date]:
    """{(user, skill, level): earliest due date} of the levels people are training for: active,
    uncompleted enrolments in published courses whose outcome reaches a level above theirs."""
    due = (
        select(
            ProgramAssignment.user_id,
            ProgramCourse.course_id,
            func.min(ProgramAssignment.due_at).label("due_at"),
        )
        .join(ProgramCourse, ProgramCourse.program_id == ProgramAssignment.program_id)
        .where(
            ProgramAssignment.status.in_(OPEN_STATUSES),
            ProgramAssignment.due_at.is_not(None),
            ProgramAssignment.user_id.in_(user_ids),
        )
        .group_by(ProgramAssignment.user_id, ProgramCourse.course_id)
        .subquery("due")
    )
    rows = conn.execute(
        select(Enrolment.user_id, CourseOutcome.skill_id, CourseOutcome.level, due.c.due_at)
        .join(Course, Course.id == Enrolment.course_id)
        .join(CourseOutcome, CourseOutcome.course_id == Course.id)
        .outerjoin(
            CourseCompletion,
            and_(
                CourseCompletion.course_id == Enrolment.course_id,
                CourseCompletion.user_id == Enrolment.user_id,
            ),
        )
        .outerjoin(
            due, and_(due.c.user_id == Enrolment.user_id, due.c.course_id == Enrolment.course_id)
        )
        .where(
            Enrolment.user_id.in_(user_ids),
            Enrolment.status == EnrolmentStatus.ACTIVE,
            Course.status == CourseStatus.PUBLISHED,
            or_(CourseCompletion.id.is_(None), CourseCompletion.state != CompletionState.COMPLETED),
        )
    )
    out: dict[tuple[int, int, int], date] = {}
    for user_id, skill_id, reach, due_at in rows:
        due_on = NO_DUE if due_at is None else _as_date(due_at)
        for level in range(held.get((user_id, skill_id), 0) + 1, reach + 1):
            key = (user_id, skill_id, level)
            out[key] = min(out.get(key, due_on), due_on)
    return out


def _as_date(value) -> date:
    if isinstance(value, str):  # SQLite hands back an aggregate of a date-time as text
        return date.fromisoformat(value[:10])
    return value.date() if isinstance(value, datetime) else value


def _desired(user_ids, now: datetime, conn=None) -> dict[Key, Value]:
    """Every row the counts should hold for ``user_ids`` now (``conn``: a connection to read
    with instead of the session, as a migration does)."""
    conn = conn if conn is not None else db.session
    orgs = _organizations(user_ids, conn)
    held = _held(user_ids, now, conn)
    training = _training(user_ids, held, conn)
    out: dict[Key, Value] = {}

    def put(user_id: int, skill_id: int, kind: str, level: int, due_on: date | None) -> None:
        if not orgs.get(user_id):
            return  # belongs to no organization: counts nowhere, as in the live gap
        out[(user_id, skill_id, CLUSTER_SCOPE, kind, level)] = (None, due_on)
        for org_id in orgs[user_id]:
            out[(user_id, skill_id, org_scope(org_id), kind, level)] = (org_id, due_on)

    for (user_id, skill_id), level in held.items():
        put(user_id, skill_id, HoldingKind.HELD, level, None)
    for (user_id, skill_id, level), due_on in training.items():
        put(user_id, skill_id, HoldingKind.PIPELINE, level, due_on)
    return out


def _stored(user_ids) -> dict[Key, tuple[int, int | None, date | None]]:
    """{key: (row id, organization, due date)} the counts hold now for ``user_ids``."""
    h = SkillHolding
    return {
        (r.user_id, r.skill_id, r.scope, r.kind, r.level): (r.id, r.organization_id, r.due_on)
        for r in db.session.execute(
            select(h.id, h.user_id, h.skill_id, h.scope, h.kind, h.level, h.organization_id,
                   h.due_on).where(h.user_id.in_(user_ids))
        )
    }  # fmt: skip


def _count_key(key: Key, org_id: int | None, due_on: date | None) -> tuple:
    _user, skill_id, scope, kind, level = key
    return (scope, org_id, skill_id, kind, level, due_on)


def _move_counts(deltas: Counter, now: datetime) -> None:
    """Add ``deltas`` {(scope, organization, skill, kind, level, due): +-n} to the counts."""
    deltas = Counter({k: v for k, v in deltas.items() if v})
    if not deltas:
        return
    c = SkillHolderCount
    existing = {
        (r.scope, r.skill_id, r.kind, r.level, r.due_on): r.id
        for r in db.session.execute(
            select(c.id, c.scope, c.skill_id, c.kind, c.level, c.due_on).where(
                c.skill_id.in_({k[2] for k in deltas}), c.scope.in_({k[0] for k in deltas})
            )
        )
    }
    new_rows = []
    for (scope, org_id, skill_id, kind, level, due_on), n in deltas.items():
        row_id = existing.get((scope, skill_id, kind, level, due_on))
        if row_id is None:
            new_rows.append({"scope": scope, "organization_id": org_id, "skill_id": skill_id,
                             "kind": kind, "level": level, "due_on": due_on, "people": n,
                             "updated_at": now})  # fmt: skip
        else:
            db.session.execute(
                update(c).where(c.id == row_id).values(people=c.people + n, updated_at=now)
            )
    if new_rows:
        db.session.execute(c.__table__.insert(), new_rows)


def sync_holdings(user_ids, now: datetime | None = None) -> int:
    """Bring the stored rows and counts of ``user_ids`` in line with their evidence,
    memberships, enrolments and programs now (idempotent). Returns the rows changed."""
    ids = sorted({int(u) for u in user_ids if u is not None})
    if not ids:
        return 0
    now = now or utcnow()
    desired, stored = _desired(ids, now), _stored(ids)
    deltas: Counter = Counter()
    gone, added, changed = [], [], []
    for key, (row_id, org_id, due_on) in stored.items():
        want = desired.get(key)
        if want is None:
            gone.append(row_id)
            deltas[_count_key(key, org_id, due_on)] -= 1
        elif want[1] != due_on:
            changed.append((row_id, want[1]))
            deltas[_count_key(key, org_id, due_on)] -= 1
            deltas[_count_key(key, org_id, want[1])] += 1
    # Core executemany (one statement per batch; the ORM's bulk insert goes row by row when
    # some values are NULL).
    for key, (org_id, due_on) in desired.items():
        if key not in stored:
            user_id, skill_id, scope, kind, level = key
            added.append({"user_id": user_id, "skill_id": skill_id, "scope": scope,
                          "organization_id": org_id, "kind": kind, "level": level,
                          "due_on": due_on})  # fmt: skip
            deltas[_count_key(key, org_id, due_on)] += 1
    if gone:
        db.session.execute(delete(SkillHolding).where(SkillHolding.id.in_(gone)))
    for row_id, due_on in changed:
        db.session.execute(
            update(SkillHolding).where(SkillHolding.id == row_id).values(due_on=due_on)
        )
    if added:
        db.session.execute(SkillHolding.__table__.insert(), added)
    _move_counts(deltas, now)
    return len(gone) + len(added) + len(changed)


def release_holdings(user_ids: list[int]) -> None:
    """Take people out of the counts (they are being deleted) and drop their rows."""
    stored = _stored(user_ids)
    if not stored:
        return
    deltas: Counter = Counter()
    for key, (_id, org_id, due_on) in stored.items():
        deltas[_count_key(key, org_id, due_on)] -= 1
    db.session.execute(delete(SkillHolding).where(SkillHolding.user_id.in_(user_ids)))
    _move_counts(deltas, utcnow())


# --- lapsed evidence -----------------------------------------------------------------------------
def synced_until() -> datetime | None:
    """Until when lapsed evidence is reflected in the stored counts (None: never synced)."""
    raw = get_setting(SYNCED_SETTING, "")
    try:
        return datetime.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def lapsed_since(now: datetime) -> list[int]:
    """People with evidence that lapsed after the last sync, up to ``now`` (indexed, few)."""
    since = synced_until()
    stmt = select(SkillEvidence.user_id).where(SkillEvidence.expires_at <= now).distinct()
    if since is not None:
        stmt = stmt.where(SkillEvidence.expires_at > since)
    return list(db.session.scalars(stmt))


def sync_lapsed(now: datetime | None = None) -> int:
    """Store the effect of evidence lapsed since the last sync (cron, daily). Returns people."""
    now = now or utcnow()
    people = lapsed_since(now)
    sync_holdings(people, now)
    set_setting(SYNCED_SETTING, now.isoformat())
    return len(people)


def lapse_correction(scope: str, skill_ids, now: datetime) -> Counter:
    """{(skill, level): +-n} to add to the stored holders of ``scope`` for evidence that lapsed
    since the last sync: those few people's live levels minus what the counts hold for them.
    (Their pipeline rows catch up at the daily sync.)"""
    people = lapsed_since(now)
    out: Counter = Counter()
    if not people:
        return out
    skills = list(skill_ids)
    for key in _stored(people):
        if key[2] == scope and key[3] == HoldingKind.HELD and key[1] in skills:
            out[(key[1], key[4])] -= 1
    for key in _desired(people, now):
        if key[2] == scope and key[3] == HoldingKind.HELD and key[1] in skills:
            out[(key[1], key[4])] += 1
    return Counter({k: v for k, v in out.items() if v})


# --- rebuilding ----------------------------------------------------------------------------------
def recounted(now: datetime | None = None, conn=None) -> tuple[list[dict], dict]:
    """Every row, and {(scope, organization, skill, kind, level, due): people}, counted afresh,
    writing nothing (``conn``: as in :func:`_desired`)."""
    conn = conn if conn is not None else db.session
    people = select(Membership.user_id).distinct()
    rows, counts = [], Counter()
    for key, (org_id, due_on) in _desired(people, now or utcnow(), conn).items():
        user_id, skill_id, scope, kind, level = key
        rows.append({"user_id": user_id, "skill_id": skill_id, "scope": scope,
                     "organization_id": org_id, "kind": kind, "level": level, "due_on": due_on})  # fmt: skip
        counts[_count_key(key, org_id, due_on)] += 1
    return rows, dict(counts)


def count_rows(counts: dict, now: datetime) -> list[dict]:
    """The rows of :class:`SkillHolderCount` for ``counts`` as :func:`recounted` returns them."""
    return [
        {"scope": scope, "organization_id": org_id, "skill_id": skill_id, "kind": kind,
         "level": level, "due_on": due_on, "people": n, "updated_at": now}
        for (scope, org_id, skill_id, kind, level, due_on), n in counts.items()
    ]  # fmt: skip


def recount_holdings(now: datetime | None = None) -> int:
    """Rebuild every row and count from scratch (repair, bulk loads). Returns the rows stored."""
    now = now or utcnow()
    rows, counts = recounted(now)
    db.session.execute(delete(SkillHolderCount))
    db.session.execute(delete(SkillHolding))
    for i in range(0, len(rows), 5_000):
        db.session.execute(SkillHolding.__table__.insert(), rows[i : i + 5_000])
    if counts:
        db.session.execute(SkillHolderCount.__table__.insert(), count_rows(counts, now))
    set_setting(SYNCED_SETTING, now.isoformat())
    return len(rows)


def stored_counts() -> dict[tuple, int]:
    """{(scope, organization, skill, kind, level, due): people} as stored (zeros left out)."""
    return {
        (r.scope, r.organization_id, r.skill_id, r.kind, r.level, r.due_on): r.people
        for r in db.session.scalars(select(SkillHolderCount))
        if r.people
    }
