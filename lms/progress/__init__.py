"""Progress: completion tracking, programs, HR dashboards, certificates, ledger, xAPI."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register every part of progress: views and programs, certificates, ledger, xAPI, API."""
    from lms import api
    from lms.progress import certificates, ledger, views, xapi

    for part in (views, certificates, ledger, xapi, api):
        part.init_app(app)
