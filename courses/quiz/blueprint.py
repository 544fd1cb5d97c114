"""The quiz blueprint (learner pages in views_learner, authoring pages in views_author)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("quiz", __name__, url_prefix="/quiz", static_folder="static")
