"""Browser journey (issue 11): the cluster admin sees every partner's indicators and trends,
follows an open signal to where it is fixed and sees it resolve; a student applies to a
placement; the enterprise's HR publishes one, accepts the applicant and records a mentor
evaluation; anyone verifies a checkpoint on the public transparency page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from lms.cluster.periods import previous_month
from lms.timeutil import utcnow
from tests.conftest import browser_login

pytestmark = pytest.mark.browser


def _logout(page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()


def test_cluster_journey(demo, page):
    # The cluster admin: indicators of every partner, with trend charts.
    browser_login(page, "admin@cluster.demo")
    page.goto("/cluster/")
    table = page.locator("#indicator-table")
    for name in ("Acme Manufacturing", "Globex Logistics", "Northfield University"):
        assert name in table.inner_text()
    assert page.locator("svg.chart").count() >= 5
    # An open signal: Northfield's co-designed courses are off target in the last complete
    # month (the current one has barely started), and the signal names that month.
    last = previous_month(utcnow())
    page.get_by_role("link", name="Signals").first.click()
    row = page.locator("#signal-table tr", has_text="Co-designed courses is off target")
    assert "Open" in row.inner_text()
    assert f"in {last.start.strftime('%B %Y')} (3 against 6)" in row.inner_text()
    assert f"period: {last.name}" in row.inner_text()
    row.get_by_role("link", name="Handle it").click()
    page.wait_for_url(f"**/cluster/partners/northfield?period={last.name}")
    # The partner page shows that month from its snapshot: 3 co-designed courses, target 6.
    cell = page.locator("td[data-scope='northfield'][data-indicator='courses_codesigned']")
    assert cell.inner_text() == "3"
    target = cell.locator("xpath=following-sibling::td[1]")
    assert "Off track" in target.inner_text() and "target 6" in target.inner_text()
    page.get_by_role("link", name="Set targets").click()
    page.fill("#t-courses_codesigned", "3")
    page.get_by_role("button", name="Save targets").click()
    page.wait_for_url("**/cluster/partners/northfield")
    assert "Targets of Northfield University saved" in page.inner_text(".flashes")
    page.goto("/cluster/signals")
    page.get_by_role("button", name="Check the rules now").click()
    page.wait_for_url("**/cluster/signals")
    assert "resolved" in page.inner_text(".flashes")
    assert (
        page.locator("#signal-table tr", has_text="Co-designed courses is off target").count() == 0
    )
    # The month judged meets the new target: 3 co-designed courses against 3.
    page.goto(f"/cluster/partners/northfield?period={last.name}")
    assert "On track" in cell.locator("xpath=following-sibling::td[1]").inner_text()
    page.goto("/cluster/signals?state=resolved")
    resolved = page.locator("#signal-table tr", has_text="Co-designed courses is off target")
    assert "condition cleared" in resolved.inner_text()
    _logout(page)

    # A student finds the Acme internship and applies.
    browser_login(page, "student@uni.demo")
    page.get_by_role("link", name="Placements").first.click()
    page.get_by_role("link", name="Quality lab internship").click()
    page.fill("#motivation", "I run SPC charts in my statistics course and want to see a real lab.")
    page.get_by_role("button", name="Send application").click()
    assert "Application sent" in page.inner_text(".flashes")
    _logout(page)

    # Acme's HR publishes another placement, then accepts the applicant and evaluates her.
    browser_login(page, "hr@acme.demo")
    page.goto("/cluster/placements/new")
    start = date.today() + timedelta(days=45)
    page.fill("#p-title", "Maintenance apprenticeship")
    page.select_option("#p-kind", "apprenticeship")
    page.fill("#p-location", "Acme Plant 1")
    page.fill("#p-starts_on", start.isoformat())
    page.fill("#p-ends_on", (start + timedelta(days=300)).isoformat())
    page.fill("#p-seats", "2")
    page.select_option("#p-skill_0", index=1)
    page.select_option("#p-level_0", "2")
    page.get_by_role("button", name="Publish placement").click()
    page.wait_for_url("**/cluster/placements/*")
    assert "Placement published" in page.inner_text(".flashes")
    page.goto("/cluster/placements")
    page.get_by_role("link", name="Quality lab internship").click()
    application = page.locator("article", has_text="Sara Lind")
    application.locator("input[name=message]").fill("Welcome to the quality lab!")
    application.get_by_role("button", name="Accept").click()
    assert "Decision saved" in page.inner_text(".flashes")
    assert page.inner_text("#seats-filled").startswith("1 of 3")
    application = page.locator("article", has_text="Sara Lind")
    application.locator("select[name=level]").select_option("2")
    application.locator("input[name=comment]").fill("Set up the gauge study on her own.")
    application.get_by_role("button", name="Record evaluation").click()
    assert "Evaluation recorded" in page.inner_text(".flashes")
    assert "Set up the gauge study on her own." in page.inner_text("article")
    _logout(page)

    # Anyone: the public transparency page, and a saved checkpoint verified there.
    page.goto("/cluster/transparency")
    assert "Dual study programme" in page.inner_text("main")
    checkpoint = page.request.get("/cluster/transparency/checkpoints/latest.json")
    assert checkpoint.ok
    page.set_input_files(
        "#checkpoint-file",
        files=[{"name": "checkpoint.json", "mimeType": "application/json",
                "buffer": checkpoint.body()}],
    )  # fmt: skip
    page.get_by_role("button", name="Verify checkpoint").click()
    assert "Verified" in page.inner_text("#verify-result")
