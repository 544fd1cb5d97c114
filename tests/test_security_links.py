"""Issue 8, item 1: every link sent out comes from SITE_URL, never from the Host header."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.config import config_from_env, trusted_hosts
from lms.extensions import db
from lms.models import OutboundMail
from tests.conftest import make_app
from tests.crawler import login

SITE = "https://lms.example.test"


@pytest.fixture
def app_config():
    return {"SITE_URL": SITE}


def _last_mail(app) -> OutboundMail | None:
    with app.app_context():
        return db.session.scalar(select(OutboundMail).order_by(OutboundMail.id.desc()).limit(1))


def _mail_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(OutboundMail.id)))


def test_reset_link_comes_from_site_url_not_from_the_host_header(client, demo):
    # A trusted name other than SITE_URL's, on another port: the link must still be SITE_URL's.
    response = client.post(
        "/auth/forgot-password",
        data={"email": "student@uni.demo"},
        headers={"Host": "127.0.0.1:8080"},
    )
    assert response.status_code == 302
    mail = _last_mail(demo)
    assert f"{SITE}/auth/reset-password/" in mail.body
    assert "127.0.0.1" not in mail.body


def test_unknown_host_is_refused_before_anything_is_mailed(client, demo):
    before = _mail_count(demo)
    response = client.post(
        "/auth/forgot-password",
        data={"email": "student@uni.demo"},
        headers={"Host": "evil.example"},
    )
    assert response.status_code == 400
    assert "host name" in response.get_data(as_text=True)
    assert _mail_count(demo) == before


def test_invitation_and_reminder_links_come_from_site_url(app, client, demo):
    login(client, "orgadmin@acme.demo")
    response = client.post(
        "/admin/org/acme/invitations",
        data={"email": "newcomer@acme.example", "role": "learner", "department": ""},
        headers={"Host": "localhost:9999"},
    )
    assert response.status_code == 302
    assert f"{SITE}/auth/invitation/" in _last_mail(demo).body
    # Outside any request (reminders from cron) the same address is used.
    from lms.progress.assignments import learning_link

    with app.app_context():
        assert learning_link() == f"{SITE}/learning"


def test_site_url_follows_port_and_trusted_hosts_default_to_its_host(monkeypatch, tmp_path):
    monkeypatch.delenv("SITE_URL", raising=False)
    monkeypatch.delenv("TRUSTED_HOSTS", raising=False)
    monkeypatch.setenv("PORT", "5101")
    config = config_from_env(str(tmp_path))
    assert config["SITE_URL"] == "http://127.0.0.1:5101"
    assert set(config["TRUSTED_HOSTS"]) == {"127.0.0.1", "localhost"}
    assert trusted_hosts("", "https://lms.example.org/") == [
        "lms.example.org",
        "localhost",
        "127.0.0.1",
    ]
    assert trusted_hosts("a.example, .b.example", SITE) == ["a.example", ".b.example"]
    assert trusted_hosts("*", SITE) is None


def test_forwarded_headers_count_only_behind_a_configured_proxy(database_url, instance_path):
    """X-Forwarded-* from anyone are ignored; PROXY_COUNT=1 believes the one proxy in front."""
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    direct = make_app(database_url, instance_path).test_client()
    response = direct.get("/static/css/app.css", headers=headers)
    assert "Strict-Transport-Security" not in response.headers
    proxied = make_app(database_url, instance_path, PROXY_COUNT=1)
    response = proxied.test_client().get("/static/css/app.css", headers=headers)
    assert "Strict-Transport-Security" in response.headers
