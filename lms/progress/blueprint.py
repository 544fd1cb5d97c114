"""The ``progress`` blueprint: every progress page module adds its routes to it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("progress", __name__)
