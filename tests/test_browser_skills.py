"""Browser journey: a trainer finds a skill by typing (live type-ahead) and adds it as an outcome."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.domain.models import Course
from lms.extensions import db
from tests.conftest import browser_login

pytestmark = pytest.mark.browser


def test_trainer_adds_an_outcome_with_the_type_ahead(demo, page):
    browser_login(page, "trainer@uni.demo")
    page.goto("/courses/python-for-production-data/outcomes")
    page.fill("#q", "lean manu")  # no Search click: the results come as the trainer types
    result = page.locator("#skill-results li", has_text="lean manufacturing")
    result.wait_for()
    result.locator("select").select_option("3")
    result.get_by_role("button", name="Add outcome").click()
    page.wait_for_url("**/outcomes*")
    assert "Outcomes saved." in page.inner_text(".flashes")
    row = page.locator("table tr", has_text="lean manufacturing")
    assert row.locator("select").input_value() == "3"
    with demo.app_context():
        course = db.session.scalar(
            select(Course).where(Course.slug == "python-for-production-data")
        )
        assert ("lean manufacturing", 3) in {
            (o.skill.preferred_label, o.level) for o in course.outcomes
        }
