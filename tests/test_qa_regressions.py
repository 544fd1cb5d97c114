"""Regression tests for bugs the QA crawler, leak probes and form fuzzing found."""

from __future__ import annotations

from sqlalchemy import select

from lms.extensions import db
from tests.crawler import login, parse


def _a_certificate_code(app) -> str:
    from lms.progress.certificate_models import Certificate

    with app.app_context():
        return db.session.scalars(select(Certificate.code).limit(1)).one()


def test_certificate_pages_have_one_h1(client, demo):
    """The certificate sheet is a section of the page, not a second page title."""
    code = _a_certificate_code(demo)
    assert parse(client.get(f"/verify/{code}").get_data(as_text=True)).h1 == 1
    login(client, "admin@cluster.demo")
    response = client.get(f"/certificates/{code}")
    assert response.status_code == 200
    assert parse(response.get_data(as_text=True)).h1 == 1
