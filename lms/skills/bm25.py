"""BM25 ranking of skill labels with ``bm25s``, for PostgreSQL.

PostgreSQL's ``ts_rank`` has no inverse document frequency: in a job description a common word
such as "quality" (hundreds of ESCO skills) weighs as much as "python" (one), so the skill the
text is about sinks. SQLite's FTS5 ranks by BM25 itself; on PostgreSQL this module does, with
the well-kept ``bm25s`` library over the same text (preferred and alternative labels, English
stop words dropped, Porter/Snowball stems). The index lives in memory per process (14k short
documents: well under a second to build) and is rebuilt when the skills change: its key is the
number of skills, the highest id and the last framework update.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import bm25s
import numpy as np
import Stemmer
from flask import current_app
from sqlalchemy import select

from lms.extensions import db
from lms.skills.models import Skill, SkillKind
from lms.skills.queries import skills_version

_LOCK = threading.Lock()
_STEMMER = Stemmer.Stemmer("english")


def tokenize(texts: list[str]):
    """Lower-case words of two letters or more, English stop words dropped, stemmed."""
    return bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER, show_progress=False)


def stem_word(word: str) -> str:
    """The stem of one lower-case word."""
    return _STEMMER.stemWord(word.lower())


def stems(text: str) -> set[str]:
    """The stems :func:`tokenize` keeps for ``text``."""
    tokens = tokenize([text])
    vocab = {i: w for w, i in tokens.vocab.items()}
    return {vocab[i] for i in tokens.ids[0]}


@dataclass
class LabelIndex:
    """BM25 over every skill's labels; ``ids``/``frameworks`` map rows back to skills."""

    key: tuple
    ids: np.ndarray
    frameworks: np.ndarray
    model: bm25s.BM25

    def rank(
        self, text: str, limit: int, framework_ids: list[int] | None
    ) -> list[tuple[int, float]]:
        """(skill id, BM25 score) of the best ``limit`` skills for ``text`` (score > 0)."""
        query = tokenize([text])
        if not len(self.ids) or not len(query.ids[0]):
            return []
        mask = None
        if framework_ids:
            mask = np.isin(self.frameworks, np.asarray(framework_ids)).astype(np.float32)
        k = min(limit, len(self.ids))
        docs, scores = self.model.retrieve(
            query, k=k, show_progress=False, weight_mask=mask, n_threads=1
        )
        return [
            (int(self.ids[d]), float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0
        ]


def label_index() -> LabelIndex:
    """The process's index, rebuilt when the skills have changed since it was built."""
    key = skills_version()
    state = current_app.extensions.setdefault("lms.skills.bm25", {})
    with _LOCK:
        index = state.get("index")
        if index is None or index.key != key:
            rows = db.session.execute(
                select(Skill.id, Skill.framework_id, Skill.preferred_label, Skill.alt_labels)
                .where(Skill.kind == SkillKind.SKILL)
                .order_by(Skill.id)
            ).all()
            model = bm25s.BM25()
            if rows:
                model.index(tokenize([f"{r[2]} {r[3]}" for r in rows]), show_progress=False)
            index = LabelIndex(
                key=key,
                ids=np.asarray([r[0] for r in rows], dtype=np.int64),
                frameworks=np.asarray([r[1] for r in rows], dtype=np.int64),
                model=model,
            )
            state["index"] = index
    return index
