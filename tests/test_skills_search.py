"""Skill type-ahead and suggestion (database full-text search), their JSON endpoints and CLI."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from lms.skills.search import (
    MAX_SUGGEST_CHARS,
    fulltext_suggestions,
    search_skills,
    suggest_skills,
)
from lms.skills.services import SkillError

JOB = (
    "Quality data analyst. You clean production data in Python, keep statistical process "
    "control charts for the machining lines and report the plant's key performance indicators "
    "to the management team every week."
)
PYTHON = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"
SPC = "http://data.europa.eu/esco/skill/0c77bcd5-b94a-475d-98e9-5a4327e4d726"


@pytest.fixture
def framework(app):
    """The demo cluster framework alone (61 ESCO skills), without the rest of the demo."""
    from lms.extensions import db
    from lms.skills.seed import seed_cluster_framework

    with app.app_context():
        seed_cluster_framework()
        db.session.commit()
    return app


def test_typeahead_matches_word_prefixes_over_labels_and_alt_labels(framework):
    with framework.app_context():
        assert [h.uri for h in search_skills("pyth")] == [PYTHON]
        hits = search_skills("statistical pro")
        assert hits[0].uri == SPC and hits[0].esco and "statistical" in hits[0].matched
        # "undertake" is only in an alternative label
        by_alt = search_skills("undertake key")
        assert by_alt and by_alt[0].label == "track key performance indicators"
        assert search_skills("p") == [] and search_skills("  ") == []
        with pytest.raises(SkillError, match="at most 200 characters"):
            search_skills("x" * 201)


def test_suggestions_are_ranked_with_the_words_that_matched(framework):
    with framework.app_context():
        assert suggest_skills("Python developer for our line's data pipelines")[0].uri == PYTHON
        hits = suggest_skills(JOB, limit=10)
        uris = [h.uri for h in hits]
        assert SPC in uris[:3]
        spc = hits[uris.index(SPC)]
        assert {"statistical", "process", "control"} <= set(spc.matched)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_suggestion_refuses_huge_or_empty_text(framework):
    with framework.app_context():
        with pytest.raises(SkillError, match="1,048,576 characters long; paste at most 20,000"):
            suggest_skills("a" * (1 << 20))
        with pytest.raises(SkillError, match="Paste a job description"):
            suggest_skills("  the and of  ")


def test_suggest_command_prints_json(framework, runner):
    result = runner.invoke(args=["skills", "suggest", JOB, "--top", "3"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 3 and set(rows[0]) == {"uri", "label", "score"}
    assert rows[0]["score"] >= rows[1]["score"] >= rows[2]["score"]
    result = runner.invoke(args=["skills", "suggest", "x" * (MAX_SUGGEST_CHARS + 1)])
    assert result.exit_code == 1 and "paste at most 20,000" in result.output


def test_json_endpoints_for_typeahead_and_suggestion(framework, demo_user_client):
    client = demo_user_client
    found = client.get("/skills/search?q=lean&limit=3").get_json()
    assert found["results"][0]["label"] == "lean manufacturing"
    assert "European Commission" in found["attribution"]
    suggested = client.post("/skills/suggest", json={"text": JOB}).get_json()
    assert SPC in [s["uri"] for s in suggested["suggestions"]]
    assert client.post("/skills/suggest", data={"text": JOB}).status_code == 200
    huge = client.post("/skills/suggest", json={"text": "word " * 300_000})
    assert huge.status_code == 413 and huge.mimetype == "application/problem+json"
    assert "paste at most 20,000" in huge.get_json()["detail"]
    assert client.post("/skills/suggest", json={"text": 5}).status_code == 400
    unknown = client.get("/skills/search?q=lean&framework=nope")
    assert unknown.status_code == 400 and "Unknown framework" in unknown.get_json()["detail"]
    assert client.get("/skills/search?q=lean&framework=cluster").get_json()["results"]


def test_typeahead_json_can_carry_each_skills_scale(framework, demo_user_client):
    """``levels=1`` (the job-role form's type-ahead) adds the skill's own proficiency scale."""
    plain = demo_user_client.get("/skills/search?q=lean&limit=2").get_json()["results"][0]
    assert "levels" not in plain
    hit = demo_user_client.get("/skills/search?q=lean&limit=2&levels=1").get_json()["results"][0]
    assert [level["name"] for level in hit["levels"]] == [
        "aware",
        "practitioner",
        "proficient",
        "expert",
    ]
    assert [level["rank"] for level in hit["levels"]] == [1, 2, 3, 4]


def test_endpoints_need_a_login(framework, client):
    assert client.get("/skills/search?q=lean").status_code in (302, 401)
    assert client.post("/skills/suggest", json={"text": JOB}).status_code in (302, 401)


@pytest.fixture
def demo_user_client(framework, client):
    from lms.extensions import db
    from tests.factories import make_user

    with framework.app_context():
        make_user("someone@example.test")
        db.session.commit()
    response = client.post(
        "/auth/login", data={"email": "someone@example.test", "password": "demo-pass-2026"}
    )
    assert response.status_code == 302
    return client


def test_reciprocal_rank_fusion():
    from lms.skills.semantic import reciprocal_rank_fusion

    fused = reciprocal_rank_fusion([[1, 2, 3], [3, 1]], k=60)
    assert [i for i, _ in fused] == [1, 3, 2]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)


def test_semantic_ranking_is_fused_in_when_installed(framework, monkeypatch):
    """Without the [semantic] extra nothing changes; with it, its ranking joins BM25's."""
    from lms.extensions import db
    from lms.skills import semantic
    from lms.skills.models import Skill

    with framework.app_context():
        assert semantic.get_index() is None or semantic.available()
        five_s = db.session.scalar(
            select(Skill.id).where(Skill.preferred_label == "5S methodology")
        )

        class Stub:
            def rank(self, text, limit, framework_ids=None):
                return [(five_s, 0.9)]  # what a model might think "tidy workplace" means

        monkeypatch.setattr(semantic, "get_index", lambda: Stub())
        hits = suggest_skills("tidy workplace for statistical process control", limit=5)
        assert five_s in [h.id for h in hits] and SPC in [h.uri for h in hits]
        framework.config["SKILLS_SEMANTIC"] = False
        text = "statistical process control charts"
        assert suggest_skills(text, limit=5) == fulltext_suggestions(text, limit=5)
        assert five_s not in [h.id for h in suggest_skills(text, limit=5)]
