"""Crawl the demo cluster as every demo role and check every page the links reach."""

from __future__ import annotations

import time

import pytest

from tests.crawler import ROLES, crawl_as


@pytest.mark.parametrize("role", [None, *ROLES])
def test_crawl_role(demo, role):
    """Every page reachable by links answers without 5xx and follows the HTML rules: one <h1>,
    a <title>, nothing the CSP blocks, no leaked error, static files that exist, no broken link."""
    started = time.monotonic()
    result = crawl_as(demo, role)
    elapsed = time.monotonic() - started
    print(f"{role}: {len(result.pages)} pages, {len(result.forms)} forms, {elapsed:.1f}s")
    assert len(result.pages) > 3
    assert not result.failures, "\n".join(result.failures)


@pytest.fixture
def app_config():
    return {"PROPAGATE_EXCEPTIONS": False}


@pytest.mark.parametrize("role", [None, "employee@acme.demo"])
def test_error_pages_follow_the_html_rules(app, client, demo, role):
    """400, 403, 404 and 405 pages (signed in and out) have one <h1>, a <title>, no CSP breach."""
    from tests.crawler import CrawlResult, _check_html, login

    if role:
        login(client, role)
    responses = {
        "404": client.get("/no/such/page"),
        "405": client.get("/auth/logout"),
        "400": client.get("/courses/?q=a%00b"),
        "403/404": client.get("/admin/site/users"),
    }
    result = CrawlResult(role or "anonymous")
    for name, response in responses.items():
        assert 300 <= response.status_code < 500, (name, response.status_code)
        if response.status_code < 400:
            continue  # signed out: a redirect to the login page
        _check_html(result, name, response.get_data(as_text=True))
    assert not result.failures, result.failures
