"""Signed checkpoints of the ledger head: a public, signed statement "entry N had hash H at T".

Anyone who saved a checkpoint can later prove the ledger's history was not rewritten: the entry
at that sequence number must still carry that hash (and the chain after it must still link). An
operator who changes an old entry and recomputes every hash after it keeps a chain that verifies
on its own, but no longer matches the checkpoints published before the change.

The document is signed with the site's Ed25519 key over its RFC 8785 canonical JSON (without the
``signature`` member).
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from sqlalchemy import select

from lms.credentials.canonical import canonical_bytes
from lms.credentials.keys import public_bytes_from_multibase, site_key, verify_signature
from lms.credentials.ledger import GENESIS, LedgerEntry, LedgerHead, verify_ledger
from lms.extensions import db

CHECKPOINT_TYPE = "EduClusterLedgerCheckpoint"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def ledger_head() -> tuple[int, str]:
    """The current head: (sequence number, hash); (0, genesis) for an empty ledger."""
    head = db.session.get(LedgerHead, 1)
    return (head.seq, head.entry_hash) if head else (0, GENESIS)


def sign_checkpoint(seq: int, head_hash: str, at: datetime) -> dict:
    """The signed checkpoint document for ``seq``/``head_hash`` at ``at``."""
    key = site_key()
    body = {
        "type": CHECKPOINT_TYPE,
        "seq": seq,
        "head_hash": head_hash,
        "time": at.isoformat(timespec="seconds") + "Z",
        "key": key.multibase,
    }
    return {**body, "signature": _b64(key.sign(canonical_bytes(body)))}


def verify_checkpoint(doc: Any) -> tuple[bool, str]:
    """Whether ``doc`` is a checkpoint signed by this site whose entry is still in the chain
    with the same hash, and the chain is intact; the reason when not."""
    if not isinstance(doc, dict) or doc.get("type") != CHECKPOINT_TYPE:
        return False, "the file is not a ledger checkpoint"
    seq, head_hash, signature = doc.get("seq"), doc.get("head_hash"), doc.get("signature")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        return False, "the checkpoint has no valid sequence number"
    if not isinstance(head_hash, str) or not isinstance(signature, str):
        return False, "the checkpoint has no hash or no signature"
    body = {k: v for k, v in doc.items() if k != "signature"}
    try:
        public = public_bytes_from_multibase(str(doc.get("key", "")))
        good = verify_signature(public, _unb64(signature), canonical_bytes(body))
    except ValueError:
        good = False
    if not good:
        return False, "the checkpoint's signature is not valid"
    if public != site_key().public_bytes:
        return False, "the checkpoint was signed by another site's key"
    if seq == 0:
        stored = GENESIS
    else:
        stored = db.session.scalar(select(LedgerEntry.entry_hash).where(LedgerEntry.seq == seq))
        if stored is None:
            return False, f"entry {seq} of the checkpoint is no longer in the ledger"
    if stored != head_hash:
        return False, f"entry {seq} no longer has the checkpoint's hash: history was rewritten"
    check = verify_ledger()
    if not check.ok:
        return False, f"the ledger is broken: {check.reason}"
    return True, f"entry {seq} still has the checkpoint's hash and the chain is intact"
