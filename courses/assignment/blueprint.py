"""The assignment blueprint (learner pages in views_learner, grading pages in views_grading)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("assignment", __name__, url_prefix="/assignment")
