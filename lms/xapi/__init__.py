"""xAPI: a statement for every learning event, the LRS outbox and the statement exports."""

from __future__ import annotations

from flask import Flask

from lms.xapi import lrs, statements, views


def init_app(app: Flask) -> None:
    """Record statements on learning events, register the LRS command and the export pages."""
    statements.init_app(app)
    lrs.init_app(app)
    views.init_app(app)
