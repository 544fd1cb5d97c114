"""Stored counts of who holds which skill at which level, per organization and for the cluster.

The gap's *supply* (people at or above a level) must not cost more with more employees, so it
is read from :class:`SkillHolderCount` (a histogram: per scope, skill and level, how many people
hold exactly that level now) instead of ranking every person's evidence on each request.

How the counts stay right:

- :class:`SkillHolding` keeps, per person, skill and scope (each organization they belong to, and
  the cluster), the level the counts hold for them. :func:`sync_holdings` recomputes the levels of
  a few people (:func:`lms.skills.supply.held_levels`), compares, and moves the counts by the
  difference; it is idempotent.
- It runs in the same transaction as every change that can move a level: a session hook collects
  the people whose evidence (earning on completion, a validation, a self-assessment) or
  memberships change in a flush and syncs them right after it; a deleted person's holdings are
  taken out of the counts before the row goes.
- Evidence lapses by time (re-certification), with no write at that moment: readers add the
  difference of the people whose evidence lapsed since the last sync (:func:`lapsed_since`,
  a handful), and ``flask --app app skills sync-holders`` (cron, daily) stores it.
- ``flask --app app skills recount-holders`` rebuilds everything from the evidence (repair, and
  after bulk loads such as ``lms seed-scale``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    delete,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from lms.extensions import db
from lms.models import Membership, User
from lms.settings import get_setting, set_setting
from lms.skills.gap_models import SkillEvidence
from lms.skills.supply import held_levels
from lms.timeutil import utcnow

# Lapsed evidence is found by time on every gap read.
Index("ix_skill_evidence_expires_at", SkillEvidence.expires_at)

CLUSTER_SCOPE = "cluster"
SYNCED_SETTING = "skills.holders_synced_until"
_DIRTY = "skills.holders_touched"
_GONE = "skills.holders_gone"


def org_scope(org_id: int | None) -> str:
    """The scope key of an organization (None: the cluster)."""
    return CLUSTER_SCOPE if org_id is None else f"org:{org_id}"


class SkillHolding(db.Model):
    """The level the stored counts hold for one person, skill and scope."""

    __tablename__ = "skill_holdings"
    __table_args__ = (
        UniqueConstraint("user_id", "skill_id", "scope", name="uq_skill_holdings_user_skill_scope"),
        Index("ix_skill_holdings_scope_skill", "scope", "skill_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(40))  # "org:<id>" or "cluster"
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    level: Mapped[int] = mapped_column(Integer)


class SkillHolderCount(db.Model):
    """How many people of a scope hold a skill at exactly a level now."""

    __tablename__ = "skill_holder_counts"
    __table_args__ = (
        UniqueConstraint("scope", "skill_id", "level", name="uq_skill_holder_counts_scope_skill"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(40))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)
    holders: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# --- computing what the counts should hold -------------------------------------------------------
Key = tuple[int, int, str]  # user, skill, scope


def _desired(user_ids, now: datetime, conn=None) -> dict[Key, tuple[int | None, int]]:
    """{(user, skill, scope): (organization, level)} as the evidence and memberships say now
    (``conn``: a connection to read with instead of the session, as a migration does)."""
    conn = conn if conn is not None else db.session
    orgs: dict[int, set[int]] = defaultdict(set)
    for user_id, org_id in conn.execute(
        select(Membership.user_id, Membership.organization_id).where(
            Membership.user_id.in_(user_ids)
        )
    ):
        orgs[user_id].add(org_id)
    held = held_levels(now, users=user_ids).subquery()
    out: dict[Key, tuple[int | None, int]] = {}
    for user_id, skill_id, level in conn.execute(
        select(held.c.user_id, held.c.skill_id, held.c.level)
    ):
        if not orgs.get(user_id):
            continue  # belongs to no organization: counts nowhere, as in the live gap
        out[(user_id, skill_id, CLUSTER_SCOPE)] = (None, level)
        for org_id in orgs[user_id]:
            out[(user_id, skill_id, org_scope(org_id))] = (org_id, level)
    return out


def _stored(user_ids: list[int]) -> dict[Key, tuple[int, int | None, int]]:
    """{(user, skill, scope): (row id, organization, level)} the counts hold now."""
    return {
        (r.user_id, r.skill_id, r.scope): (r.id, r.organization_id, r.level)
        for r in db.session.execute(
            select(
                SkillHolding.id,
                SkillHolding.user_id,
                SkillHolding.skill_id,
                SkillHolding.scope,
                SkillHolding.organization_id,
                SkillHolding.level,
            ).where(SkillHolding.user_id.in_(user_ids))
        )
    }


def _move_counts(deltas: Counter, now: datetime) -> None:
    """Add ``deltas`` {(scope, organization, skill, level): +-n} to the stored counts."""
    deltas = Counter({k: v for k, v in deltas.items() if v})
    if not deltas:
        return
    skills = {k[2] for k in deltas}
    scopes = {k[0] for k in deltas}
    existing = {
        (scope, skill_id, level): row_id
        for row_id, scope, skill_id, level in db.session.execute(
            select(
                SkillHolderCount.id,
                SkillHolderCount.scope,
                SkillHolderCount.skill_id,
                SkillHolderCount.level,
            ).where(SkillHolderCount.skill_id.in_(skills), SkillHolderCount.scope.in_(scopes))
        )
    }
    new_rows = []
    for (scope, org_id, skill_id, level), n in deltas.items():
        row_id = existing.get((scope, skill_id, level))
        if row_id is None:
            new_rows.append({"scope": scope, "organization_id": org_id, "skill_id": skill_id,
                             "level": level, "holders": n, "updated_at": now})  # fmt: skip
        else:
            db.session.execute(
                update(SkillHolderCount)
                .where(SkillHolderCount.id == row_id)
                .values(holders=SkillHolderCount.holders + n, updated_at=now)
            )
    if new_rows:
        db.session.execute(insert(SkillHolderCount), new_rows)


def sync_holdings(user_ids, now: datetime | None = None) -> int:
    """Bring the stored holdings and counts of ``user_ids`` in line with their evidence and
    memberships now (idempotent; a fixed number of statements per changed count). Returns the
    number of holdings changed."""
    ids = sorted({int(u) for u in user_ids if u is not None})
    if not ids:
        return 0
    now = now or utcnow()
    desired, stored = _desired(ids, now), _stored(ids)
    deltas: Counter = Counter()
    gone, added, changed = [], [], []
    for key, (row_id, org_id, level) in stored.items():
        want = desired.get(key)
        if want is None:
            gone.append(row_id)
            deltas[(key[2], org_id, key[1], level)] -= 1
        elif want[1] != level:
            changed.append((row_id, want[1]))
            deltas[(key[2], org_id, key[1], level)] -= 1
            deltas[(key[2], org_id, key[1], want[1])] += 1
    for key, (org_id, level) in desired.items():
        if key not in stored:
            added.append({"user_id": key[0], "skill_id": key[1], "scope": key[2],
                          "organization_id": org_id, "level": level})  # fmt: skip
            deltas[(key[2], org_id, key[1], level)] += 1
    if gone:
        db.session.execute(delete(SkillHolding).where(SkillHolding.id.in_(gone)))
    for row_id, level in changed:
        db.session.execute(
            update(SkillHolding).where(SkillHolding.id == row_id).values(level=level)
        )
    if added:
        db.session.execute(insert(SkillHolding), added)
    _move_counts(deltas, now)
    return len(gone) + len(added) + len(changed)


def release_holdings(user_ids: list[int]) -> None:
    """Take people out of the counts (they are being deleted) and drop their holdings."""
    stored = _stored(user_ids)
    if not stored:
        return
    deltas: Counter = Counter()
    for (_user, skill_id, scope), (_id, org_id, level) in stored.items():
        deltas[(scope, org_id, skill_id, level)] -= 1
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
    """{(skill, level): +-n} to add to the stored counts of ``scope`` for evidence that lapsed
    since the last sync: those few people's live levels minus what the counts hold for them."""
    people = lapsed_since(now)
    out: Counter = Counter()
    if not people:
        return out
    skills = list(skill_ids)
    for key, (_id, _org, level) in _stored(people).items():
        if key[2] == scope and key[1] in skills:
            out[(key[1], level)] -= 1
    for key, (_org, level) in _desired(people, now).items():
        if key[2] == scope and key[1] in skills:
            out[(key[1], level)] += 1
    return Counter({k: v for k, v in out.items() if v})


# --- rebuilding ----------------------------------------------------------------------------------
def recount_holdings(now: datetime | None = None) -> int:
    """Rebuild every holding and count from the evidence (repair, bulk loads). Returns the
    number of holdings stored."""
    now = now or utcnow()
    holdings, counts = recounted(now)
    db.session.execute(delete(SkillHolderCount))
    db.session.execute(delete(SkillHolding))
    for i in range(0, len(holdings), 5_000):
        db.session.execute(insert(SkillHolding), holdings[i : i + 5_000])
    if counts:
        db.session.execute(insert(SkillHolderCount), [
            {"scope": scope, "organization_id": org_id, "skill_id": skill_id, "level": level,
             "holders": n, "updated_at": now}
            for (scope, org_id, skill_id, level), n in counts.items()
        ])  # fmt: skip
    set_setting(SYNCED_SETTING, now.isoformat())
    return len(holdings)


def stored_counts() -> dict[tuple[str, int | None, int, int], int]:
    """{(scope, organization, skill, level): holders} as stored (zero rows left out)."""
    return {
        (r.scope, r.organization_id, r.skill_id, r.level): r.holders
        for r in db.session.scalars(select(SkillHolderCount))
        if r.holders
    }


def recounted(now: datetime | None = None, conn=None) -> tuple[list[dict], dict]:
    """Every holding row, and {(scope, organization, skill, level): holders}, counted afresh from
    the evidence, writing nothing (``conn``: as in :func:`_desired`)."""
    conn = conn if conn is not None else db.session
    people = select(SkillEvidence.user_id).distinct()
    holdings, counts = [], Counter()
    for (user_id, skill_id, scope), (org_id, level) in _desired(
        people, now or utcnow(), conn
    ).items():
        holdings.append({"user_id": user_id, "skill_id": skill_id, "scope": scope,
                         "organization_id": org_id, "level": level})  # fmt: skip
        counts[(scope, org_id, skill_id, level)] += 1
    return holdings, dict(counts)


# --- keeping them right in the same transaction --------------------------------------------------
def _before_flush(session: Session, _context, _instances) -> None:
    # The objects, not their user ids: a new membership may get its user id only in the flush.
    touched = session.info.setdefault(_DIRTY, [])
    touched.extend(
        obj
        for obj in (*session.new, *session.dirty, *session.deleted)
        if isinstance(obj, SkillEvidence | Membership)
    )
    deleted = [obj.id for obj in session.deleted if isinstance(obj, User)]
    if deleted:
        release_holdings(deleted)
        session.info.setdefault(_GONE, set()).update(deleted)


def _after_flush(session: Session, _context) -> None:
    touched = session.info.pop(_DIRTY, None)
    gone = session.info.pop(_GONE, set())
    if touched:
        sync_holdings({getattr(obj, "user_id", None) for obj in touched} - gone)


def listen() -> None:
    """Keep the counts in the same transaction as each change of evidence or membership."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush_postexec", _after_flush)
