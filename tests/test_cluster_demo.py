"""The demo cluster shows something real on first start: history, every kind of signal."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.cluster.models import (
    ClusterSignal,
    FundingEntry,
    IndicatorSnapshot,
    LedgerCheckpoint,
    Placement,
    SignalState,
    SurveyResponse,
)
from lms.cluster.rules import RULE_LABELS
from lms.credentials.ledger import verify_ledger
from lms.extensions import db


def test_demo_has_history_and_every_kind_of_signal_open(demo, client):
    with demo.app_context():
        months = db.session.scalars(select(func.distinct(IndicatorSnapshot.month))).all()
        assert len(months) == 18
        rules = set(
            db.session.scalars(
                select(ClusterSignal.rule).where(ClusterSignal.state == SignalState.OPEN)
            )
        )
        assert rules == set(RULE_LABELS)
        assert db.session.scalar(select(func.count(Placement.id))) >= 3
        assert db.session.scalar(select(func.count(FundingEntry.id))) >= 5
        assert db.session.scalar(select(func.count(SurveyResponse.id))) >= 5
        assert db.session.scalar(select(func.count(LedgerCheckpoint.id))) == 1
        assert verify_ledger().ok
    client.post("/auth/login", data={"email": "admin@cluster.demo", "password": "demo-pass-2026"})
    page = client.get("/cluster/").get_data(as_text=True)
    assert page.count("<svg") >= 5 and "Acme Manufacturing" in page
    signals = client.get("/cluster/signals").get_data(as_text=True)
    for label in RULE_LABELS.values():
        assert label in signals
    assert client.get("/cluster/transparency").status_code == 200
    assert client.get("/cluster/report").status_code == 200
