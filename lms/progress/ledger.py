"""The hash-chained, tamper-evident ledger of completions and certificates."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this part on ``app``."""
