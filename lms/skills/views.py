"""JSON endpoints for skill type-ahead and suggestion (used by authoring and HR pages), and the
registration of the skills package on the app."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify, request
from flask_login import login_required

from lms.errors import problem
from lms.extensions import db
from lms.skills import holder_hooks
from lms.skills.esco import ESCO_ATTRIBUTION
from lms.skills.holders import recount_holdings
from lms.skills.queries import framework_ids_for, skill_scales
from lms.skills.scale import seed_skill_scale
from lms.skills.search import MAX_SUGGEST_CHARS, search_skills, suggest_skills
from lms.skills.seed import seed_cluster_framework
from lms.skills.services import SkillError

bp = Blueprint("skills", __name__, url_prefix="/skills")
MAX_LIMIT = 50


def _limit(default: int) -> int:
    try:
        return max(1, min(MAX_LIMIT, int(request.values.get("limit", default))))
    except ValueError:
        return default


def _frameworks() -> list[int] | None:
    slugs = [s for s in request.values.getlist("framework") if s]
    if not slugs:
        return None
    ids = framework_ids_for(slugs)
    if len(ids) != len(set(slugs)):
        raise SkillError(f"Unknown framework: {', '.join(slugs)}.", "framework")
    return ids


@bp.get("/search")
@login_required
def search():
    """Type-ahead: skills whose labels start with the typed words, as JSON (``levels=1``: with
    each skill's proficiency scale)."""
    try:
        hits = search_skills(request.args.get("q", ""), _limit(10), _frameworks())
    except SkillError as exc:
        return problem(400, "Bad search", exc.message)
    results = [h.as_json() for h in hits]
    if request.args.get("levels") == "1":
        # Forms that add the skill at a level (demand) draw the select from its own scale.
        scales = skill_scales([h.id for h in hits])
        for item in results:
            item["levels"] = [
                {"rank": rank, "name": name} for rank, name in scales.get(item["id"], [])
            ]
    return jsonify(results=results, attribution=ESCO_ATTRIBUTION)


@bp.post("/suggest")
@login_required
def suggest():
    """Skills a pasted job description asks for, ranked, with the words that matched, as JSON."""
    payload = request.get_json(silent=True) if request.is_json else None
    text = (payload or {}).get("text") if payload is not None else request.form.get("text")
    if not isinstance(text, str):
        return problem(400, "Bad suggestion request", "Send the job description as “text”.")
    try:
        hits = suggest_skills(text, _limit(10), _frameworks())
    except SkillError as exc:
        status = 413 if len(text) > MAX_SUGGEST_CHARS else 400
        return problem(status, "Bad suggestion request", exc.message)
    return jsonify(suggestions=[h.as_json() for h in hits], attribution=ESCO_ATTRIBUTION)


def _recount_after_seeding() -> None:
    """Count the demo's skill holders once, then keep them per change again."""
    db.session.flush()
    recount_holdings()
    holder_hooks.resume(db.session())


def init_app(app: Flask) -> None:
    """Register the skills endpoints, the demo framework's seed step and the scale step."""
    app.register_blueprint(bp)
    # Before the courses (order 10): their outcomes point at the cluster framework's skills.
    app.extensions.setdefault("lms.seed_steps", []).extend(
        [
            (5, "skill framework", seed_cluster_framework),
            # The demo is one bulk load: count skill holders once at the end, not per flush.
            (-1, "skill holder counts paused", lambda: holder_hooks.pause(db.session())),
            (10_000, "skill holder counts", _recount_after_seeding),
        ]
    )
    # ``lms seed-scale``: skill profiles and demand for the synthetic cluster.
    app.extensions.setdefault("lms.scale_steps", []).append(seed_skill_scale)
