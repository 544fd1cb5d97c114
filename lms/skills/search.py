"""Skill search (type-ahead) and skill suggestion from pasted text. No hand-written scorer: the
database's own full-text search (SQLite FTS5, PostgreSQL tsvector) and, for BM25 on PostgreSQL,
the ``bm25s`` library.

- **Type-ahead** matches every typed word as a word prefix (``"data anal"`` finds "data
  analysis") over preferred and alternative labels, and lists labels that start with the query
  first, then shorter labels: what people expect from a type-ahead, and cheap at any size.
- **Suggestion** ranks skills by BM25 against the content words of the text (stemmed, stop
  words dropped): FTS5's own ``bm25()`` on SQLite (the preferred label weighted twice the
  alternative labels), ``bm25s`` on PostgreSQL, whose ``ts_rank`` has no inverse document
  frequency (:mod:`lms.skills.bm25`). Each suggestion lists the label words that matched. When the optional
  ``[semantic]`` extra is installed (:mod:`lms.skills.semantic`), its ranking is fused with this
  one (reciprocal rank fusion); it is never required.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import bindparam, select, text

from lms.extensions import db
from lms.skills.bm25 import label_index, stem_word, stems
from lms.skills.models import PG_SIMPLE_VECTOR, Skill
from lms.skills.services import SkillError

#: Longest pasted text a suggestion reads (a long job description is ~1,000 words).
MAX_SUGGEST_CHARS = 20_000
#: Longest type-ahead query.
MAX_QUERY_CHARS = 200
#: Most distinct words a suggestion query ORs together (the rarest... first in the text win).
MAX_TERMS = 80
WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
#: English stop words dropped from pasted text (lms/skills/data/stopwords.txt).
STOP_WORDS = frozenset(
    word
    for line in (Path(__file__).parent / "data" / "stopwords.txt").read_text().splitlines()
    if not line.startswith("#")
    for word in line.split()
)
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"
MARKED_RE = re.compile(f"{MARK_OPEN}(.*?){MARK_CLOSE}", re.S)


@dataclass(frozen=True)
class SkillHit:
    """A skill found by search or suggestion."""

    id: int
    uri: str
    label: str
    framework: str
    framework_name: str
    esco: bool
    score: float
    matched: tuple[str, ...] = field(default_factory=tuple)

    def as_json(self) -> dict:
        """Search hit as the JSON the skill picker reads."""
        return {
            "id": self.id,
            "uri": self.uri,
            "label": self.label,
            "framework": self.framework,
            "framework_name": self.framework_name,
            "esco": self.esco,
            "score": round(self.score, 4),
            "matched": list(self.matched),
        }


def words(text_: str) -> list[str]:
    """The words of ``text_``, lower case, in order."""
    return [w.lower() for w in WORD_RE.findall(text_)]


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _framework_filter(framework_ids: list[int] | None) -> tuple[str, dict]:
    if not framework_ids:
        return "", {}
    return " AND s.framework_id IN :framework_ids", {"framework_ids": list(framework_ids)}


# --- type-ahead ------------------------------------------------------------------------------------
def search_skills(
    query: str, limit: int = 10, framework_ids: list[int] | None = None
) -> list[SkillHit]:
    """Skills whose labels have words starting with each word of ``query`` (type-ahead)."""
    if len(query) > MAX_QUERY_CHARS:
        raise SkillError(f"Type at most {MAX_QUERY_CHARS} characters to search skills.", "q")
    terms = words(query)[:8]
    if not terms or sum(len(t) for t in terms) < 2:
        return []
    prefix = " ".join(query.lower().split())
    where, params = _framework_filter(framework_ids)
    params.update(limit=limit, prefix=_like_prefix(prefix))
    if _dialect() == "postgresql":
        params["tsq"] = " & ".join(f"{t}:*" for t in terms)
        sql = (
            "SELECT s.id FROM skills s WHERE s.kind = 'skill' AND "
            f"{PG_SIMPLE_VECTOR} @@ to_tsquery('simple'::regconfig, :tsq){where} "
            "ORDER BY (lower(s.preferred_label) LIKE :prefix ESCAPE '\\') DESC, "
            "(to_tsvector('simple'::regconfig, s.preferred_label) "
            "@@ to_tsquery('simple'::regconfig, :tsq)) DESC, "
            "length(s.preferred_label), s.id LIMIT :limit"
        )
    else:
        params["match"] = " AND ".join(f'"{t}"*' for t in terms)
        params["label_match"] = "{preferred_label} : (" + params["match"] + ")"
        sql = (
            "SELECT s.id FROM skills_prefix_fts f JOIN skills s ON s.id = f.rowid "
            f"WHERE skills_prefix_fts MATCH :match AND s.kind = 'skill'{where} "
            "ORDER BY (lower(s.preferred_label) LIKE :prefix ESCAPE '\\') DESC, "
            "(s.id IN (SELECT rowid FROM skills_prefix_fts WHERE skills_prefix_fts "
            "MATCH :label_match)) DESC, length(s.preferred_label), s.id LIMIT :limit"
        )
    ids = [row[0] for row in db.session.execute(_expanding(sql), params)]
    return _hits(ids, {i: 1.0 / (n + 1) for n, i in enumerate(ids)}, set(terms), prefix_match=True)


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _expanding(sql: str):
    statement = text(sql)
    if ":framework_ids" in sql:
        statement = statement.bindparams(bindparam("framework_ids", expanding=True))
    return statement


# --- suggestion --------------------------------------------------------------------------------------
def query_terms(text_: str) -> list[str]:
    """The distinct content words of ``text_`` a suggestion searches for, in text order."""
    seen: dict[str, None] = {}
    for word in words(text_):
        if len(word) > 1 and word not in STOP_WORDS and not word.isdigit():
            seen.setdefault(word, None)
    return list(seen)[:MAX_TERMS]


def check_suggest_text(text_: str) -> None:
    """Refuse empty or oversized pasted text with a message that says what to do."""
    if len(text_) > MAX_SUGGEST_CHARS:
        raise SkillError(
            f"The text is {len(text_):,} characters long; paste at most {MAX_SUGGEST_CHARS:,} "
            "(the job description itself, without attachments).",
            "text",
        )
    if not query_terms(text_):
        raise SkillError(
            "Paste a job description or role profile to get skill suggestions.", "text"
        )


def fulltext_suggestions(
    text_: str, limit: int = 10, framework_ids: list[int] | None = None
) -> list[SkillHit]:
    """Skills ranked by BM25 (FTS5 on SQLite, bm25s on PostgreSQL) against ``text_``."""
    check_suggest_text(text_)
    terms = query_terms(text_)
    where, params = _framework_filter(framework_ids)
    params["limit"] = limit
    if _dialect() == "postgresql":
        # ts_rank has no inverse document frequency: rank with BM25 (bm25s) instead.
        ranked = label_index().rank(text_, limit, framework_ids)
        return _hits(
            [i for i, _ in ranked], dict(ranked), _stem_matches([i for i, _ in ranked], text_)
        )
    params["match"] = " OR ".join(f'"{t}"' for t in terms)
    sql = (
        "SELECT s.id, -bm25(skills_fts, 2.0, 1.0) AS score, "
        "highlight(skills_fts, 0, char(2), char(3)) || ' ' || "
        "highlight(skills_fts, 1, char(2), char(3)) AS marked "
        "FROM skills_fts JOIN skills s ON s.id = skills_fts.rowid "
        f"WHERE skills_fts MATCH :match AND s.kind = 'skill'{where} "
        "ORDER BY bm25(skills_fts, 2.0, 1.0), s.id LIMIT :limit"
    )
    rows = list(db.session.execute(_expanding(sql), params))
    matched = {row.id: _marked_words(row.marked) for row in rows}
    return _hits([row.id for row in rows], {row.id: float(row.score) for row in rows}, matched)


def _stem_matches(ids: list[int], text_: str) -> dict[int, tuple[str, ...]]:
    """For each skill, the label words whose stem is one of the text's (what BM25 matched)."""
    query = stems(text_)
    labels = {
        skill_id: label
        for skill_id, label in db.session.execute(
            select(Skill.id, Skill.preferred_label + " " + Skill.alt_labels).where(
                Skill.id.in_(ids)
            )
        )
    }
    return {
        i: tuple(dict.fromkeys(w for w in words(labels.get(i, "")) if stem_word(w) in query))[:8]
        for i in ids
    }


def _marked_words(marked: str | None) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for span in MARKED_RE.findall(marked or ""):
        for word in span.split():
            found.setdefault(word.lower(), None)
    return tuple(found)


def suggest_skills(
    text_: str, limit: int = 10, framework_ids: list[int] | None = None
) -> list[SkillHit]:
    """The skills ``text_`` asks for, best first, with the label words that matched.

    Full-text ranking always; fused with the semantic ranking when the ``[semantic]`` extra is
    installed and ``SKILLS_SEMANTIC`` is not switched off.
    """
    check_suggest_text(text_)
    from lms.skills import semantic  # optional: imports sentence-transformers only if present

    model = semantic.get_index() if current_app.config.get("SKILLS_SEMANTIC", True) else None
    if model is None:
        return fulltext_suggestions(text_, limit, framework_ids)
    pool = max(limit * 5, 50)
    lexical = fulltext_suggestions(text_, pool, framework_ids)
    dense = model.rank(text_, pool, framework_ids)
    fused = semantic.reciprocal_rank_fusion([[h.id for h in lexical], [i for i, _ in dense]])
    ids = [i for i, _ in fused[:limit]]
    matched = {h.id: h.matched for h in lexical}
    return _hits(ids, dict(fused), matched)


def _hits(
    ids: list[int], scores: dict[int, float], matched, prefix_match: bool = False
) -> list[SkillHit]:
    """Hits for ``ids`` in that order (one query for labels and frameworks)."""
    if not ids:
        return []
    rows = db.session.execute(
        _expanding(
            "SELECT s.id, s.uri, s.preferred_label, s.alt_labels, f.slug, f.name, f.source "
            "FROM skills s JOIN skill_frameworks f ON f.id = s.framework_id "
            "WHERE s.id IN :ids"
        ).bindparams(bindparam("ids", expanding=True)),
        {"ids": ids},
    )
    by_id = {row.id: row for row in rows}
    hits = []
    for skill_id in ids:
        row = by_id.get(skill_id)
        if row is None:
            continue
        if prefix_match:
            label_words = set(words(row.preferred_label + " " + row.alt_labels))
            words_matched = tuple(
                sorted({w for w in label_words if any(w.startswith(t) for t in matched)})
            )[:8]
        else:
            words_matched = matched.get(skill_id, ())
        hits.append(
            SkillHit(
                id=row.id,
                uri=row.uri,
                label=row.preferred_label,
                framework=row.slug,
                framework_name=row.name,
                esco=row.source == "esco" or row.uri.startswith("http://data.europa.eu/esco/"),
                score=scores.get(skill_id, 0.0),
                matched=words_matched,
            )
        )
    return hits
