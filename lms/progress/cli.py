"""The ``flask --app app progress ...`` command group, shared by every part of progress.

Each part adds its commands with ``@progress_cli.command(...)`` in its own module; the group is
registered on the app exactly once, by :func:`init_app`.
"""

from __future__ import annotations

from flask import Flask
from flask.cli import AppGroup

progress_cli = AppGroup("progress", help="Completion, programs, certificates, ledger and xAPI.")


def init_app(app: Flask) -> None:
    """Register the ``progress`` group on ``app`` (idempotent: several parts may call this)."""
    if "progress" not in app.cli.commands:
        app.cli.add_command(progress_cli)
