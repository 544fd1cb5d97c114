"""The ``hr`` blueprint: the HR dashboard, employees, transcripts and program pages add routes to it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("hr", __name__)
