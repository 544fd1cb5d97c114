"""Placements: publish, find, apply, decide (seats never over-filled), evaluate, outcome."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from lms.cluster.models import Placement, PlacementApplication
from lms.cluster.placements import decide_application
from lms.extensions import db
from lms.models import User
from lms.skills.gap_models import EvidenceKind, SkillEvidence
from lms.skills.models import Skill
from lms.skills.services import cluster_framework
from lms.timeutil import utcnow
from tests.cluster_factories import cluster_world, login

SOON = date.today() + timedelta(days=40)


@pytest.fixture
def world(app):
    w = cluster_world(app)
    with app.app_context():
        from lms.skills.seed import seed_cluster_framework

        seed_cluster_framework()
        framework = cluster_framework()
        skill = db.session.scalar(
            select(Skill).where(Skill.framework_id == framework.id, Skill.kind == "skill").limit(1)
        )
        w.skill = skill.id
        db.session.commit()
    return w


def _form(world, **changes):
    data = {
        "org": str(world.acme), "title": "Quality lab internship", "kind": "internship",
        "description": "Measure parts and report to the quality lead.", "location": "Plant 1",
        "starts_on": SOON.isoformat(), "ends_on": (SOON + timedelta(days=60)).isoformat(),
        "seats": "1", "skill_0": str(world.skill), "level_0": "2",
    }  # fmt: skip
    data.update(changes)
    return data


def _publish(client, world, **changes) -> int:
    login(client, "hr@acme.test")
    response = client.post("/cluster/placements/new", data=_form(world, **changes))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    client.post("/auth/logout")
    return int(response.location.rsplit("/", 1)[1])


def _apply(client, placement_id: int, email: str, motivation: str = "I measure things for fun and want to learn SPC.") -> None:  # fmt: skip
    login(client, email)
    client.post(f"/cluster/placements/{placement_id}/apply", data={"motivation": motivation})
    client.post("/auth/logout")


def test_publish_refuses_bad_input_all_at_once(app, client, world):
    login(client, "hr@acme.test")
    bad = client.post(
        "/cluster/placements/new",
        data=_form(world, title="", seats="0", starts_on="2001-01-01", ends_on="2000-01-01",
                   location="", skill_0="", level_0=""),
    )  # fmt: skip
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    for words in ("Give the placement a title", "between 1 and 500 seats", "start date has passed",
                  "end date must be on or after", "Say where", "at least one skill"):  # fmt: skip
        assert words in text, words
    swapped = client.post(
        "/cluster/placements/new",
        data=_form(world, ends_on=(SOON - timedelta(days=1)).isoformat()),
    )
    assert swapped.status_code == 400 and "end date must be on or after" in swapped.get_data(
        as_text=True
    )
    assert (
        client.post("/cluster/placements/new", data=_form(world, seats="many")).status_code == 400
    )
    with app.app_context():
        assert db.session.scalar(select(func.count(Placement.id))) == 0
    client.post("/auth/logout")
    login(client, "s0@uni.test")
    assert client.get("/cluster/placements/new").status_code == 403


def test_student_finds_applies_once_and_enterprise_decides(app, client, world):
    pid = _publish(client, world)
    login(client, "s0@uni.test")
    listing = client.get(f"/cluster/placements?skill={world.skill}").get_data(as_text=True)
    assert "Quality lab internship" in listing
    assert "Quality lab internship" not in client.get(
        f"/cluster/placements?from={(SOON + timedelta(days=1)).isoformat()}"
    ).get_data(as_text=True)
    assert client.get("/cluster/placements?from=31-12-2026").status_code == 400
    short = client.post(f"/cluster/placements/{pid}/apply", data={"motivation": "pls"})
    assert "at least 20 characters" in client.get(short.location).get_data(as_text=True)
    client.post(f"/cluster/placements/{pid}/apply",
                data={"motivation": "I measure things for fun and want to learn SPC."})  # fmt: skip
    twice = client.post(
        f"/cluster/placements/{pid}/apply",
        data={"motivation": "Again, I really want this placement very much."},
        follow_redirects=True,
    )
    assert "already applied" in twice.get_data(as_text=True)
    client.post("/auth/logout")
    # An employee of an enterprise is not a student.
    login(client, "e0@acme.test")
    client.post(f"/cluster/placements/{pid}/apply", data={"motivation": "x" * 30})
    client.post("/auth/logout")
    with app.app_context():
        assert db.session.scalar(select(func.count(PlacementApplication.id))) == 1
        app_id = db.session.scalar(select(PlacementApplication.id))
    _apply(client, pid, "s1@uni.test")
    login(client, "hr@acme.test")
    page = client.get(f"/cluster/placements/{pid}").get_data(as_text=True)
    assert "I measure things for fun" in page
    declined = client.post(f"/cluster/applications/{app_id}/decide", data={"action": "decline"},
                           follow_redirects=True)  # fmt: skip
    assert "a message is required to decline" in declined.get_data(as_text=True)
    client.post(
        f"/cluster/applications/{app_id}/decide", data={"action": "accept", "message": "Welcome!"}
    )
    with app.app_context():
        other = db.session.scalar(
            select(PlacementApplication.id).where(PlacementApplication.id != app_id)
        )
    full = client.post(f"/cluster/applications/{other}/decide", data={"action": "accept"},
                       follow_redirects=True)  # fmt: skip
    assert "Every seat of this placement is taken" in full.get_data(as_text=True)
    with app.app_context():
        placement = db.session.get(Placement, pid)
        assert placement.seats_filled == 1
        assert db.session.get(PlacementApplication, other).state == "applied"


def test_two_accepts_at_once_never_over_fill(app, client, world):
    pid = _publish(client, world)
    _apply(client, pid, "s0@uni.test")
    _apply(client, pid, "s1@uni.test")
    with app.app_context():
        ids = db.session.scalars(select(PlacementApplication.id)).all()
        hr_id = db.session.scalar(select(User.id).where(User.email == "hr@acme.test"))
    results = []
    barrier = threading.Barrier(2)

    def accept(app_id):
        with app.app_context():
            application = db.session.get(PlacementApplication, app_id)
            hr = db.session.get(User, hr_id)
            barrier.wait()
            try:
                decide_application(application, "accept", "", hr, utcnow())
                db.session.commit()
                results.append("ok")
            except Exception as exc:  # noqa: BLE001  (counted below)
                db.session.rollback()
                results.append(type(exc).__name__)

    threads = [threading.Thread(target=accept, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1, results
    with app.app_context():
        assert db.session.get(Placement, pid).seats_filled == 1
        assert (
            db.session.scalar(
                select(func.count(PlacementApplication.id)).where(
                    PlacementApplication.state == "accepted"
                )
            )
            == 1
        )


def test_overlapping_placements_are_refused(app, client, world):
    first = _publish(client, world, seats="2")
    second = _publish(client, world, title="Second internship", seats="2",
                      starts_on=(SOON + timedelta(days=30)).isoformat())  # fmt: skip
    _apply(client, first, "s0@uni.test")
    _apply(client, second, "s0@uni.test")
    with app.app_context():
        a1, a2 = db.session.scalars(
            select(PlacementApplication.id).order_by(PlacementApplication.id)
        ).all()
    login(client, "hr@acme.test")
    client.post(f"/cluster/applications/{a1}/decide", data={"action": "accept"})
    overlap = client.post(f"/cluster/applications/{a2}/decide", data={"action": "accept"},
                          follow_redirects=True)  # fmt: skip
    assert "the dates overlap" in overlap.get_data(as_text=True)


def test_mentor_evaluation_becomes_validated_evidence_and_outcome(app, client, world):
    pid = _publish(client, world)
    _apply(client, pid, "s0@uni.test")
    with app.app_context():
        app_id = db.session.scalar(select(PlacementApplication.id))
        # The placement has started (for the outcome).
        db.session.get(Placement, pid).starts_on = date.today() - timedelta(days=1)
        db.session.commit()
    login(client, "hr@acme.test")
    early = client.post(f"/cluster/applications/{app_id}/evaluate",
                        data={"skill_id": world.skill, "level": "2", "comment": "Good"},
                        follow_redirects=True)  # fmt: skip
    assert "Only accepted students are evaluated" in early.get_data(as_text=True)
    client.post(f"/cluster/applications/{app_id}/decide", data={"action": "accept"})
    empty = client.post(f"/cluster/applications/{app_id}/evaluate",
                        data={"skill_id": world.skill, "level": "2", "comment": ""},
                        follow_redirects=True)  # fmt: skip
    assert "Say what you saw" in empty.get_data(as_text=True)
    client.post(f"/cluster/applications/{app_id}/evaluate",
                data={"skill_id": world.skill, "level": "2",
                      "comment": "Ran the gauge study alone."})  # fmt: skip
    client.post(
        f"/cluster/applications/{app_id}/outcome", data={"outcome": "completed", "hired": "y"}
    )
    again = client.post(f"/cluster/applications/{app_id}/outcome", data={"outcome": "completed"},
                        follow_redirects=True)  # fmt: skip
    assert "already recorded" in again.get_data(as_text=True)
    client.post("/auth/logout")
    with app.app_context():
        student = db.session.scalar(select(User).where(User.email == "s0@uni.test"))
        evidence = db.session.scalar(
            select(SkillEvidence).where(SkillEvidence.user_id == student.id)
        )
        assert evidence.kind == EvidenceKind.VALIDATION and evidence.level == 2
        application = db.session.get(PlacementApplication, app_id)
        assert application.outcome == "completed" and application.hired is True
    # The student's university trainer sees the placement and its evaluations.
    login(client, "trainer@uni.test")
    page = client.get(f"/cluster/placements/{pid}").get_data(as_text=True)
    assert "Ran the gauge study alone." in page
    client.post("/auth/logout")
    # Another enterprise's HR cannot decide.
    login(client, "hr@globex.test")
    assert client.post(f"/cluster/applications/{app_id}/outcome", data={}).status_code == 404
