"""The ``auth`` blueprint: sign-in and account pages (views.py), invitations and
self-registration (joining.py) add their routes to it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")
