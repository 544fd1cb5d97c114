"""Certificates: issue, HTML/PDF, public verification, Open Badges 3.0."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this part on ``app``."""
