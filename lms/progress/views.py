"""Learner and HR pages: My learning, programs, dashboards, reports."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this part on ``app``."""
