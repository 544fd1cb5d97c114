"""xAPI statements for every learning event, export, and the LRS outbox."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this part on ``app``."""
