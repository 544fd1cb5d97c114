"""The foundation boots, logs people in and guards its pages."""

import pytest


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_demo_accounts_log_in(client, auth, demo):
    response = auth.login("hr@acme.demo")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard")
    page = client.get("/dashboard")
    assert b"Henrik Olsen" in page.data


def test_security_headers_on_every_response(client):
    response = client.get("/auth/login")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


@pytest.mark.browser
def test_browser_login_smoke(page, demo):
    from tests.conftest import browser_login

    browser_login(page, "student@uni.demo")
    assert page.locator("h1").inner_text().startswith("Hello, Sara Lind")


def test_https_request_does_not_make_later_http_cookies_secure(app):
    """Secure is decided per request: one HTTPS request must not change the process config."""
    secure = app.test_client()
    secure.post(
        "/auth/login",
        data={"email": "nobody@example.org", "password": "x"},
        base_url="https://localhost",
    )
    with secure.session_transaction(base_url="https://localhost") as session:
        session["probe"] = 1
    response = secure.get("/auth/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"]
    plain = app.test_client()
    with plain.session_transaction() as session:
        session["probe"] = 1
    cookie = plain.get("/auth/login").headers.get("Set-Cookie", "")
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert "Secure" not in cookie


def test_navigation_marks_authoring_on_authoring_pages(client, auth, demo):
    """Course edit pages sit under /courses/ but belong to Authoring, not the Catalog."""
    import re

    auth.login("trainer@uni.demo")

    def current(path: str) -> list[str]:
        html = client.get(path).get_data(as_text=True)
        html = html.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]
        return re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)</a>', html)

    assert current("/courses/python-for-production-data/edit") == ["Authoring"]
    assert current("/courses/authoring") == ["Authoring"]
    assert current("/courses/") == ["Catalog"]
    assert current("/courses/python-for-production-data") == ["Catalog"]


def test_filter_selects_keep_what_was_chosen(client, auth, demo):
    """The shared filter_select macro marks the chosen option, for ids and for text values."""
    import re

    from sqlalchemy import select

    from lms.extensions import db
    from lms.models import Department

    with demo.app_context():
        quality = db.session.scalar(select(Department).where(Department.name == "Quality"))
        quality_id = quality.id
    auth.login("hr@acme.demo")
    html = client.get(f"/hr/acme/employees?department={quality_id}&status=completed").text
    assert re.search(rf'<option value="{quality_id}" selected>Quality</option>', html)
    assert re.search(r'<option value="completed" selected>', html)
    auth.logout()
    auth.login("admin@cluster.demo")
    html = client.get("/admin/site/users?role=site_admin&org=acme").text
    assert '<option value="site_admin" selected>Site administrator</option>' in html
    assert re.search(r'<option value="acme" selected>', html)
