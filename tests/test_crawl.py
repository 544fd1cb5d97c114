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
