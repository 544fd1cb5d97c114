"""Credentials: certificates (issue, PDF, verification), Open Badges 3.0, the site's signing keys
and the hash-chained ledger of completions."""

from __future__ import annotations

from flask import Flask

from lms.credentials import certificates, ledger, views


def init_app(app: Flask) -> None:
    """Subscribe the ledger and certificates to completions and register the certificate pages."""
    # The ledger records a completion before the certificate it causes (receiver order).
    ledger.init_app(app)
    certificates.init_app(app)
    views.init_app(app)
    # My learning links each completed course to its certificate through this hook.
    app.extensions["lms.course_certificate_urls"] = views.course_certificate_urls
