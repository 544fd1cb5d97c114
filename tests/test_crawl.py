"""Crawl the demo cluster as every demo role and check every page the links reach."""

from __future__ import annotations

import time

import pytest

from tests.crawler import ROLES, crawl, login


@pytest.mark.parametrize("role", [None, *ROLES])
def test_crawl_role(client, demo, role):
    """Every page reachable by links answers without 5xx and follows the HTML rules."""
    if role:
        login(client, role)
    started = time.monotonic()
    result = crawl(client, role or "anonymous", max_pages=450)
    elapsed = time.monotonic() - started
    print(f"{role}: {len(result.pages)} pages, {len(result.forms)} forms, {elapsed:.1f}s")
    assert len(result.pages) > 3
    assert not result.failures, "\n".join(result.failures)


@pytest.fixture
def app_config():
    # Crawl failures are collected as 500 responses (with their exception) instead of raising.
    return {"PROPAGATE_EXCEPTIONS": False}
