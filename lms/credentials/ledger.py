"""The hash-chained, tamper-evident ledger of completions and certificates.

Every course completion, program completion, certificate issue and certificate revocation is
appended as one entry, in the transaction that caused it. Each entry stores the SHA-256 of the
previous entry and its own hash over ``prev_hash`` + the canonical JSON (RFC 8785) of
``{seq, kind, payload, created_at}``; changing, removing or reordering any row breaks the chain
from that row on, and ``flask --app app progress verify-ledger`` names the first bad entry.

Activity-level completions are deliberately not entered: they are many, can be recomputed when a
rule changes, and what people rely on (course/program completion, certificates) is recorded.

Concurrency: appends serialise on the single row of ``ledger_head`` (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite serialises writers, and we take its write lock before reading the head), so two
requests completing at once can never fork the chain.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click
from flask import Flask
from sqlalchemy import DateTime, Integer, String, Text, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from lms import signals
from lms.credentials.canonical import canonical_json
from lms.extensions import db
from lms.progress.cli import progress_cli
from lms.timeutil import utcnow

GENESIS = "0" * 64


class LedgerEntry(db.Model):
    """One append-only entry of the chain."""

    __tablename__ = "ledger_entries"
    __page_scope__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    # Who the entry is about (copied from the payload, not hashed): lets the API serve an
    # organization's completions feed in commit order (seq) with an index.
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON
    created_at: Mapped[datetime] = mapped_column(DateTime)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class LedgerHead(db.Model):
    """The single row (id 1) holding the last sequence number and hash: the append lock."""

    __tablename__ = "ledger_head"
    __page_scope__ = "none"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    entry_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


def compute_hash(prev_hash: str, seq: int, kind: str, payload: Any, created_at: datetime) -> str:
    """The hash of one entry: SHA-256 over the previous hash and the entry's canonical JSON."""
    content = {
        "seq": seq,
        "kind": kind,
        "payload": payload,
        "created_at": created_at.isoformat(timespec="microseconds"),
    }
    return hashlib.sha256((prev_hash + canonical_json(content)).encode("utf-8")).hexdigest()


def _locked_head() -> LedgerHead:
    """The head row, locked for this transaction (created on the first append)."""
    if db.session.get_bind().dialect.name == "sqlite":
        # Take SQLite's write lock now, before reading: a read-then-upgrade could deadlock.
        db.session.execute(update(LedgerHead).where(LedgerHead.id == 1).values(seq=LedgerHead.seq))
    head = db.session.scalar(
        select(LedgerHead)
        .where(LedgerHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if head is not None:
        return head
    last = db.session.scalar(select(LedgerEntry).order_by(LedgerEntry.seq.desc()).limit(1))
    try:
        with db.session.begin_nested():
            db.session.add(
                LedgerHead(
                    id=1,
                    seq=last.seq if last else 0,
                    entry_hash=last.entry_hash if last else GENESIS,
                )
            )
    except IntegrityError:
        pass  # another transaction created it first; lock theirs
    return db.session.scalar(
        select(LedgerHead)
        .where(LedgerHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def append_entry(kind: str, payload: dict) -> LedgerEntry:
    """Append ``kind`` with ``payload`` (canonical-JSON serialisable) to the chain; flush only."""
    payload_text = canonical_json(payload)  # fail early on values that have no canonical form
    head = _locked_head()
    seq = head.seq + 1
    created_at = utcnow()
    entry = LedgerEntry(
        seq=seq,
        kind=kind,
        user_id=payload.get("user_id"),
        payload=payload_text,
        created_at=created_at,
        prev_hash=head.entry_hash,
        entry_hash=compute_hash(head.entry_hash, seq, kind, payload, created_at),
    )
    db.session.add(entry)
    head.seq = seq
    head.entry_hash = entry.entry_hash
    db.session.flush()
    return entry


@dataclass(frozen=True)
class LedgerCheck:
    """The result of :func:`verify_ledger`."""

    ok: bool
    count: int
    bad_seq: int | None = None
    reason: str = ""


def verify_ledger(batch: int = 2000) -> LedgerCheck:
    """Walk the whole chain in sequence order (constant memory) and check every link."""
    expected_seq, prev_hash, count = 1, GENESIS, 0
    rows = db.session.execute(
        select(
            LedgerEntry.seq,
            LedgerEntry.kind,
            LedgerEntry.payload,
            LedgerEntry.created_at,
            LedgerEntry.prev_hash,
            LedgerEntry.entry_hash,
        )
        .order_by(LedgerEntry.seq)
        .execution_options(yield_per=batch)
    )
    for seq, kind, payload, created_at, stored_prev, stored_hash in rows:
        if seq != expected_seq:
            return LedgerCheck(False, count, expected_seq, f"entry {expected_seq} is missing")
        if stored_prev != prev_hash:
            return LedgerCheck(
                False,
                count,
                seq,
                f"entry {seq} does not follow entry {seq - 1} (removed or reordered)",
            )
        try:
            content = json.loads(payload)
        except ValueError:
            return LedgerCheck(False, count, seq, f"entry {seq} has an unreadable payload")
        if compute_hash(prev_hash, seq, kind, content, created_at) != stored_hash:
            return LedgerCheck(False, count, seq, f"entry {seq} was changed after it was written")
        prev_hash, expected_seq, count = stored_hash, seq + 1, count + 1
    head = db.session.get(LedgerHead, 1)
    head_seq, head_hash = (head.seq, head.entry_hash) if head else (0, GENESIS)
    if head is None and count:
        return LedgerCheck(False, count, None, "the ledger head is missing")
    if head_seq != count or head_hash != prev_hash:
        missing = count + 1
        return LedgerCheck(
            False, count, missing, f"entries from {missing} to {head_seq} were removed"
        )
    return LedgerCheck(True, count)


def ledger_count() -> int:
    """Number of entries in the certificate ledger."""
    return db.session.scalar(select(func.count(LedgerEntry.id))) or 0


# --- what gets entered ----------------------------------------------------------------------
def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _on_course_completed(sender, user, course, completion, **_) -> None:
    append_entry(
        "course_completed",
        {
            "user_id": user.id,
            "course_id": course.id,
            "course": course.title,
            "grade": completion.grade,
            "completed_at": _iso(completion.completed_at),
        },
    )


def _on_program_completed(sender, user, program, assignment, **_) -> None:
    append_entry(
        "program_completed",
        {
            "user_id": user.id,
            "program_id": program.id,
            "program": program.name,
            "organization_id": program.organization_id,
            "assignment_id": assignment.id,
            "completed_at": _iso(getattr(assignment, "completed_at", None)),
        },
    )


@progress_cli.command("verify-ledger")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.File("rb"),
    default=None,
    help="A saved signed checkpoint: prove it is still a prefix of today's chain.",
)
def verify_ledger_command(checkpoint_file=None) -> None:
    """Check the whole hash chain; exit 1 naming the first bad entry.

    With ``--checkpoint FILE`` also check that the checkpoint's entry still has its hash (the
    history up to it was not rewritten, even if every later hash was recomputed).
    """
    if checkpoint_file is not None:
        # Local import: checkpoints import this module (the entry model and the walk).
        from lms.credentials.checkpoints import verify_checkpoint

        try:
            doc = json.loads(checkpoint_file.read())
        except ValueError:
            click.echo("Checkpoint FAILED: the file is not JSON.", err=True)
            sys.exit(1)
        ok, reason = verify_checkpoint(doc)
        if not ok:
            click.echo(f"Checkpoint FAILED: {reason}.", err=True)
            sys.exit(1)
        click.echo(f"Checkpoint verified: {reason}.")
        return
    result = verify_ledger()
    if result.ok:
        click.echo(f"Ledger intact ({result.count} entries).")
        return
    where = f" (first bad entry: seq {result.bad_seq})" if result.bad_seq else ""
    click.echo(f"Ledger BROKEN{where}: {result.reason}.", err=True)
    sys.exit(1)


def init_app(app: Flask) -> None:
    """Subscribe to completions and register ``progress verify-ledger``."""
    signals.course_completed.connect(_on_course_completed)
    signals.program_completed.connect(_on_program_completed)
