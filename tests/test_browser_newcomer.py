"""In the browser, issue 8's newcomer journeys: picking quiz questions, the lesson preview, the
quiz timer, HR's "Assign to" and the phone layout."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from courses.quiz.models import Quiz
from lms.extensions import db
from tests.conftest import browser_login

COURSE = "python-for-production-data"
QUIZ = "Check: production data basics"


def _quiz(app) -> Quiz:
    with app.app_context():
        quiz = db.session.scalar(select(Quiz).where(Quiz.title == QUIZ))
        db.session.expunge(quiz)
        return quiz


@pytest.mark.browser
def test_author_picks_and_orders_questions_from_the_bank(demo, page):
    quiz = _quiz(demo)
    browser_login(page, "trainer@uni.demo")
    page.goto(f"/courses/{COURSE}/modules/{quiz.module_id}/activities/new?type=quiz")
    page.fill("#title", "Picked in the browser")
    page.get_by_role("checkbox", name="pd-ms").check()
    page.get_by_role("checkbox", name="pd-scrap").check()
    # The script's buttons reorder the rows; the form submits them in the order shown.
    move_up = page.get_by_role("button", name="Move up pd-scrap")
    for _ in range(5):
        move_up.click()
    assert page.locator("tbody.js-reorder tr").first.locator("code").inner_text() == "pd-scrap"
    page.get_by_role("button", name="Add quiz").click()
    assert "added" in page.inner_text(".flashes")
    with demo.app_context():
        saved = db.session.scalar(select(Quiz).where(Quiz.title == "Picked in the browser"))
        assert saved.question_keys == ["pd-scrap", "pd-ms"]
    # Writing a question from the quiz form comes back to it, with the question in the quiz.
    page.get_by_role("link", name="True or false").click()
    page.fill("#prompt", "Raw exports are never edited.")
    page.get_by_label("True", exact=True).check()
    page.get_by_role("button", name="Add question").click()
    assert "added to the bank and to “Picked in the browser”" in page.inner_text(".flashes")
    with demo.app_context():
        assert len(db.session.get(Quiz, saved.id).question_keys) == 3


@pytest.mark.browser
def test_lesson_preview_renders_through_the_server(demo, page):
    quiz = _quiz(demo)
    browser_login(page, "trainer@uni.demo")
    page.goto(f"/courses/{COURSE}/modules/{quiz.module_id}/activities/new?type=lesson")
    page.fill("textarea[name='type-body']", "## Spectra\n\nA **healthy** bearing.")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator(".editor-preview")
    preview.locator("h2").wait_for()
    assert preview.locator("h2").inner_text() == "Spectra"
    assert preview.locator("strong").inner_text() == "healthy"
    assert page.locator("textarea[name='type-body']").is_hidden()
    page.get_by_role("button", name="Write").click()
    assert page.locator("textarea[name='type-body']").is_visible()


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_quiz_timer_stays_in_view_to_the_last_question(demo, browser, live_server, width):
    with demo.app_context():
        quiz = db.session.scalar(select(Quiz).where(Quiz.title == QUIZ))
        quiz.conditions.clear()  # the demo opens it after a lesson
        db.session.commit()
        quiz_id = quiz.id
    context = browser.new_context(base_url=live_server, viewport={"width": width, "height": 700})
    page = context.new_page()
    try:
        browser_login(page, "student@uni.demo")
        page.goto(f"/quiz/{quiz_id}/attempts")
        page.get_by_role("button", name="Start attempt").click()
        page.wait_for_url("**/attempt/*")
        page.get_by_role("button", name="Submit answers").scroll_into_view_if_needed()
        assert page.evaluate("window.scrollY") > 300
        box = page.locator("#quiz-timer").bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 700
        assert box["x"] + box["width"] <= width
    finally:
        context.close()


@pytest.mark.browser
def test_assign_to_shows_only_the_field_it_needs(demo, page):
    browser_login(page, "hr@acme.demo")
    page.goto("/hr/acme/programs")
    page.get_by_role("link", name="Digital Quality Retraining 2026").first.click()
    # Auto-waiting assertions: the program page and its script may still be loading after the click.
    employees, department = page.locator("#user_ids"), page.locator("#department")
    expect(employees).to_be_visible()
    expect(department).to_be_hidden()
    page.get_by_label("A department").check()
    expect(department).to_be_visible()
    expect(employees).to_be_hidden()
    page.get_by_label("Every employee of the organization").check()
    expect(department).to_be_hidden()
    expect(employees).to_be_hidden()
    assert page.get_by_label("Due date for these employees (optional)").is_visible()


@pytest.mark.browser
def test_phone_tables_show_they_scroll_and_tabs_fit(demo, browser, live_server):
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 800})
    page = context.new_page()
    try:
        browser_login(page, "hr@acme.demo")
        page.goto("/hr/acme/employees")
        wrap = page.locator(".table-wrap").first
        assert wrap.evaluate("e => e.scrollWidth > e.clientWidth")  # wider than the phone
        assert "radial-gradient" in wrap.evaluate("e => getComputedStyle(e).backgroundImage")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        context.clear_cookies()  # another person on the same phone
        browser_login(page, "trainer@uni.demo")
        page.goto(f"/courses/{COURSE}/structure")
        tabs = page.locator("nav.subnav a")
        assert tabs.count() >= 5
        for i in range(tabs.count()):
            box = tabs.nth(i).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, i
    finally:
        context.close()
