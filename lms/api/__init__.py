"""The JSON API for HR systems under /api/v1 (personal access tokens, problem+json, OpenAPI)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the API blueprint on ``app``."""
