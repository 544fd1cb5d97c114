"""Joint funding: entries with documents onto the ledger, bad input, the public page, signed
checkpoints, and the rewrite attack that a saved checkpoint exposes."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from lms.cluster.models import FundingEntry, LedgerCheckpoint
from lms.credentials.ledger import LedgerEntry, LedgerHead, append_entry, compute_hash
from lms.extensions import db
from lms.models import Membership, Organization
from lms.timeutil import utcnow
from tests.cluster_factories import cluster_world, login
from tests.factories import make_user

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def world(app):
    w = cluster_world(app)
    with app.app_context():
        make_user("admin@acme.test", db.session.get(Organization, w.acme), "org_admin")
        db.session.commit()
    return w


def _entry(client, **changes):
    data = {
        "direction": "contribution", "kind": "money", "program": "Dual study 2026",
        "description": "Co-funding of the sensor lab", "amount": "25000.00", "currency": "EUR",
        "occurred_on": (date.today() - timedelta(days=3)).isoformat(),
    }  # fmt: skip
    document = changes.pop("document", (io.BytesIO(PDF), "invoice.pdf", "application/pdf"))
    data.update(changes)
    if document is not None:
        data["document"] = document
    return client.post("/cluster/funding", data=data, content_type="multipart/form-data")


def test_entries_go_onto_the_ledger_and_the_public_page(app, client, world):
    login(client, "admin@acme.test")
    assert _entry(client).status_code == 302
    hours = _entry(client, kind="staff_hours", amount="", hours="120", hourly_rate="45.50",
                   document=(io.BytesIO(PDF), "timesheet.pdf", "application/pdf"))  # fmt: skip
    assert hours.status_code == 302
    spent = _entry(client, direction="spending", amount="4000", description="Sensors")
    assert spent.status_code == 302
    with app.app_context():
        entries = db.session.scalars(select(FundingEntry).order_by(FundingEntry.id)).all()
        assert [e.amount_cents for e in entries] == [2_500_000, 546_000, 400_000]
        ledger = {e.seq: e for e in db.session.scalars(select(LedgerEntry))}
        for entry in entries:
            payload = json.loads(ledger[entry.ledger_seq].payload)
            assert payload["funding_id"] == entry.id
            assert payload["document_sha256"] == entry.document_sha256
    client.post("/auth/logout")
    page = client.get("/cluster/transparency")  # public: no login
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Dual study 2026" in text and "Acme Works" in text
    assert "30,460.00" in text  # contributed: 25,000 + 120 h x 45.50
    assert "4,000.00" in text


def test_bad_money_hours_currency_and_documents(app, client, world):
    login(client, "admin@acme.test")
    cases = [
        ({"amount": "-50"}, "must be more than zero"),
        ({"amount": "1e12"}, "check the figure"),
        ({"amount": "12.345"}, "at most two decimals"),
        ({"amount": "lots"}, "must be a number"),
        ({"amount": "NaN"}, "must be a number"),
        ({"currency": "USD"}, "keeps its books in EUR"),
        ({"kind": "staff_hours", "amount": "", "hours": "0", "hourly_rate": "40"}, "more than zero"),
        ({"kind": "staff_hours", "hours": "1000000", "hourly_rate": "40"}, "check the figure"),
        ({"occurred_on": (date.today() + timedelta(days=5)).isoformat()}, "cannot be in the future"),
        ({"occurred_on": "yesterday"}, "YYYY-MM-DD"),
        ({"document": None}, "Attach the document"),
        ({"document": (io.BytesIO(b"MZ..."), "tool.exe", "application/x-msdownload")}, "PDF, PNG or JPEG"),
        ({"direction": "spending", "amount": "10"}, "more than what is left"),
        ({"program": ""}, "Name the cluster program"),
    ]  # fmt: skip
    for changes, words in cases:
        response = _entry(client, **changes)
        assert response.status_code == 400, changes
        assert words in response.get_data(as_text=True), (changes, words)
    with app.app_context():
        assert db.session.scalar(select(func.count(FundingEntry.id))) == 0
        assert db.session.scalar(select(func.count(LedgerEntry.id))) == 0
    client.post("/auth/logout")
    login(client, "hr@acme.test")  # HR may not record funding (org admins do)
    assert client.get("/cluster/funding").status_code == 403


def test_checkpoint_is_signed_published_and_idempotent(app, client, runner, world, tmp_path):
    login(client, "admin@acme.test")
    _entry(client)
    client.post("/auth/logout")
    out = tmp_path / "cp.json"
    first = runner.invoke(args=["cluster", "checkpoint", "--output", str(out)])
    assert first.exit_code == 0 and "published" in first.output
    again = runner.invoke(args=["cluster", "checkpoint"])
    assert "already published" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count(LedgerCheckpoint.id))) == 1
    doc = json.loads(out.read_text())
    assert doc["seq"] == 1 and len(doc["head_hash"]) == 64 and doc["signature"]
    public = client.get("/cluster/transparency/checkpoints/latest.json")
    assert public.status_code == 200 and public.get_json() == doc
    assert client.get(f"/cluster/transparency/checkpoints/{date.today()}.json").get_json() == doc
    assert client.get("/cluster/transparency/checkpoints/2026-13-01.json").status_code == 404
    ok = runner.invoke(args=["progress", "verify-ledger", "--checkpoint", str(out)])
    assert ok.exit_code == 0 and "Checkpoint verified" in ok.output
    # Anyone can verify on the public page too.
    page = client.post(
        "/cluster/transparency",
        data={"checkpoint": (io.BytesIO(out.read_bytes()), "cp.json")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 200 and "Verified" in page.get_data(as_text=True)
    # A forged signature is refused.
    forged = dict(doc, seq=2)
    bad = tmp_path / "forged.json"
    bad.write_text(json.dumps(forged))
    result = runner.invoke(args=["progress", "verify-ledger", "--checkpoint", str(bad)])
    assert result.exit_code == 1 and "signature is not valid" in result.output
    junk = tmp_path / "junk.json"
    junk.write_text("not json")
    assert (
        runner.invoke(args=["progress", "verify-ledger", "--checkpoint", str(junk)]).exit_code == 1
    )


def test_rewriting_history_and_recomputing_the_chain_fails_the_checkpoint(
    app, runner, world, tmp_path
):
    """The attack a plain hash chain cannot see: change an old entry and recompute every hash
    after it. verify-ledger alone passes; the checkpoint saved before the change fails."""
    with app.app_context():
        for n in range(3):
            append_entry("funding_contribution", {"funding_id": n, "amount_cents": 100_000 + n})
        db.session.commit()
    out = tmp_path / "before.json"
    assert runner.invoke(args=["cluster", "checkpoint", "--output", str(out)]).exit_code == 0
    with app.app_context():
        for n in range(2):
            append_entry("funding_contribution", {"funding_id": 10 + n, "amount_cents": 5})
        db.session.commit()
        # The rewrite: entry 2 now says 1 cent; every later hash and the head are recomputed.
        rows = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq)).all()
        prev = rows[0].entry_hash
        for row in rows[1:]:
            payload = json.loads(row.payload)
            if row.seq == 2:
                payload["amount_cents"] = 1
                row.payload = json.dumps(payload, sort_keys=True, separators=(",", ":"))
            row.prev_hash = prev
            row.entry_hash = compute_hash(prev, row.seq, row.kind, payload, row.created_at)
            prev = row.entry_hash
        db.session.get(LedgerHead, 1).entry_hash = prev
        db.session.commit()
    plain = runner.invoke(args=["progress", "verify-ledger"])
    assert plain.exit_code == 0, plain.output  # the rewritten chain is consistent on its own
    result = runner.invoke(args=["progress", "verify-ledger", "--checkpoint", str(out)])
    assert result.exit_code == 1
    assert "entry 3 no longer has the checkpoint's hash: history was rewritten" in result.output


def test_only_members_download_documents(app, client, world):
    login(client, "admin@acme.test")
    _entry(client)
    client.post("/auth/logout")
    with app.app_context():
        entry_id = db.session.scalar(select(FundingEntry.id))
        assert db.session.scalar(select(func.count(Membership.id))) > 0
    assert client.get(f"/cluster/funding/{entry_id}/document").status_code in (302, 401)
    login(client, "hr@globex.test")
    response = client.get(f"/cluster/funding/{entry_id}/document")
    assert response.status_code == 200 and response.data == PDF
    assert utcnow()
