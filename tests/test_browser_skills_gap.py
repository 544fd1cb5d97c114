"""Browser journey (issue 10): an HR manager pastes a job description, confirms the suggested
skills as demand, sees the gap with its courses and closest employees, and assigns a program."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.progress.models import Program, ProgramAssignment
from tests.conftest import browser_login

pytestmark = pytest.mark.browser

DESCRIPTION = (
    "Quality data analyst for our plant. You will write Python programs to analyse production "
    "data, apply statistical process control and report to the quality manager."
)


def test_hr_turns_a_job_description_into_a_program(demo, page):
    browser_login(page, "hr@acme.demo")
    page.goto("/hr/acme/skills/demand/new")
    page.fill("#title", "Quality data analyst")
    page.fill("#headcount", "3")
    needed = (date.today() + timedelta(days=180)).isoformat()
    page.fill("#needed_by", needed)
    page.fill("#description", DESCRIPTION)
    page.get_by_role("button", name="Suggest skills from the description").click()
    rows = page.locator("section[aria-labelledby=skills-title] tbody tr")
    rows.first.wait_for()
    assert rows.count() >= 2
    # HR removes every suggestion but the Python one.
    for i in range(rows.count()):
        row = rows.nth(i)
        if "Python" not in row.inner_text():
            row.locator("input[type=checkbox]").uncheck()
    # The skill field is a type-ahead (lms/static/js/skills.js over /skills/search): HR adds
    # statistical process control without leaving the page, at its own scale.
    before = rows.count()
    page.fill("#q", "statistical proc")
    page.locator("#skill-typeahead li", has_text="statistical process control").get_by_role(
        "button", name="Add"
    ).first.click()
    spc = page.locator("section[aria-labelledby=skills-title] tbody tr", has_text="statistical")
    if rows.count() == before:  # it had been suggested (and unticked above): ticked again
        assert spc.first.locator("input[type=checkbox]").is_checked()
    else:
        assert rows.count() == before + 1
    spc.first.locator("select").select_option("3")
    page.get_by_role("button", name="Save the job role").click()
    page.wait_for_url("**/skills/gap")
    assert page.locator("#gap-table tbody tr", has_text="statistical process control").count()
    assert "Saved the demand" in page.inner_text(".flashes")
    gap_row = page.locator("#gap-table tbody tr", has_text="Python")
    gap_row.get_by_role("link", name="Courses and people").click()
    page.locator("#courses-title").wait_for()
    assert page.locator("input[name=course_ids]").count() >= 1
    page.locator("input[name=user_ids]").first.check()
    page.get_by_role("button", name="Create a program").click()
    page.wait_for_url("**/programs/*")
    assert "assigned it to 1 employee" in page.inner_text(".flashes")
    with demo.app_context():
        program = db.session.scalar(select(Program).order_by(Program.id.desc()))
        assert program.due_date.date().isoformat() == needed
        assert db.session.scalar(
            select(ProgramAssignment).where(ProgramAssignment.program_id == program.id)
        )
