"""Signals: raise what the rules find (never twice while open), tell the owners, acknowledge
with a note, resolve by hand or automatically when the condition clears.

``evaluate_signals`` is safe to run twice at once: a partial unique index allows one unresolved
signal per key, so the second insert of the same problem fails inside its savepoint and updates
the open row instead; only the run that inserted a signal notifies its owners.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_request_context
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from lms.cluster.models import ClusterSignal, SignalState
from lms.cluster.rules import Finding, find_problems
from lms.errors import Conflict, DomainError
from lms.extensions import db
from lms.mail import send_mail
from lms.models import Membership, Role, User
from lms.progress.assignments import notify
from lms.urls import site_url

NOTE_MAX = 2000
UNRESOLVED = (SignalState.OPEN, SignalState.ACKNOWLEDGED)


@dataclass(frozen=True)
class Evaluation:
    """What one evaluation did."""

    raised: int
    updated: int
    resolved: int


def owners(org_id: int | None) -> list[User]:
    """Who acts on a signal: the organization's admins and HR (the cluster admins for None)."""
    if org_id is None:
        stmt = select(User).where(User.is_site_admin.is_(True), User.active.is_(True))
    else:
        stmt = (
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.organization_id == org_id,
                Membership.role.in_([Role.ORG_ADMIN, Role.HR]),
                User.active.is_(True),
            )
            .distinct()
        )
    return list(db.session.scalars(stmt.order_by(User.id)))


def _tell_owners(signal: ClusterSignal) -> None:
    link = f"{site_url()}{signal.link}" if signal.link.startswith("/") else signal.link
    for person in owners(signal.organization_id):
        notify(person, "cluster_signal", signal.title, signal.link)
        send_mail(
            person.email,
            f"Cluster signal: {signal.title}"[:300],
            f"Hello {person.name},\n\nA cluster rule found a problem your organization can act on:\n\n"
            f"  {signal.title}\n\nSee what to do: {link}\n"
            f"All signals: {site_url()}/cluster/signals\n",
        )


def _raise(finding: Finding, now: datetime) -> tuple[ClusterSignal | None, bool]:
    """Insert the finding as an open signal, or refresh the unresolved one with its key."""
    figures = json.dumps(finding.figures, sort_keys=True, default=str)
    try:
        with db.session.begin_nested():
            signal = ClusterSignal(
                key=finding.key, rule=finding.rule, organization_id=finding.organization_id,
                severity=finding.severity, title=finding.title[:300], figures=figures,
                link=finding.link[:500], since=now, last_seen_at=now,
            )  # fmt: skip
            db.session.add(signal)
        return signal, True
    except IntegrityError:
        db.session.execute(
            update(ClusterSignal)
            .where(ClusterSignal.key == finding.key, ClusterSignal.state.in_(UNRESOLVED))
            .values(
                figures=figures,
                title=finding.title[:300],
                severity=finding.severity,
                link=finding.link[:500],
                last_seen_at=now,
            )
        )
        return None, False


def evaluate_signals(now: datetime) -> Evaluation:
    """Run every rule: raise new signals, refresh open ones, resolve those that cleared."""
    if not has_request_context():
        # Links are stored as site paths; build them as a request to SITE_URL would.
        with current_app.test_request_context(base_url=site_url()):
            return evaluate_signals(now)
    findings = find_problems(now)
    raised = updated = 0
    for finding in findings:
        signal, new = _raise(finding, now)
        if new:
            raised += 1
            _tell_owners(signal)
        else:
            updated += 1
    keys = {f.key for f in findings}
    stale = [
        s.id
        for s in db.session.execute(
            select(ClusterSignal.id, ClusterSignal.key).where(ClusterSignal.state.in_(UNRESOLVED))
        )
        if s.key not in keys
    ]
    resolved = 0
    if stale:
        resolved = db.session.execute(
            update(ClusterSignal)
            .where(ClusterSignal.id.in_(stale), ClusterSignal.state.in_(UNRESOLVED))
            .values(state=SignalState.RESOLVED, resolved_at=now)
        ).rowcount
    db.session.flush()
    return Evaluation(raised, updated, resolved)


def acknowledge_signal(signal: ClusterSignal, by: User, note: str, now: datetime) -> None:
    """Say the owner has seen it and what they do about it (a note is required)."""
    note = (note or "").strip()
    if not note:
        raise DomainError("Say what you are doing about it: a short note is required.", "note")
    if len(note) > NOTE_MAX:
        raise DomainError(f"Keep the note under {NOTE_MAX} characters.", "note")
    if signal.state != SignalState.OPEN:
        raise Conflict("This signal is no longer open.")
    signal.state = SignalState.ACKNOWLEDGED
    signal.acknowledged_at, signal.acknowledged_by_id, signal.note = now, by.id, note
    db.session.flush()


def resolve_signal(signal: ClusterSignal, by: User, now: datetime) -> None:
    """Close a signal by hand (if the problem is still there, the next evaluation raises it
    again as a new signal)."""
    if signal.state == SignalState.RESOLVED:
        raise Conflict("This signal is already resolved.")
    signal.state, signal.resolved_at, signal.resolved_by_id = SignalState.RESOLVED, now, by.id
    db.session.flush()


def signals_for(org_ids: set[int] | None, state: str | None) -> list[ClusterSignal]:
    """Signals of ``org_ids`` (None: every signal, the cluster admin), newest first."""
    stmt = select(ClusterSignal).order_by(ClusterSignal.since.desc(), ClusterSignal.id.desc())
    if org_ids is not None:
        stmt = stmt.where(ClusterSignal.organization_id.in_(org_ids or [-1]))
    if state == "unresolved":
        stmt = stmt.where(ClusterSignal.state.in_(UNRESOLVED))
    elif state:
        stmt = stmt.where(ClusterSignal.state == state)
    return list(db.session.scalars(stmt.limit(500)))
