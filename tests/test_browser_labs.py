"""Browser journey: a learner fails a lab, sees which visible tests failed, fixes it, passes.

The app runs with the local executor, so the page's live status polling is exercised for real.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lms.extensions import db
from lms.progress.models import ActivityCompletion
from tests.conftest import browser_login
from tests.factories import enrol, make_course, make_lab, make_module, make_org, make_user
from virtual_labs import executors

pytestmark = [pytest.mark.browser, pytest.mark.sandbox]

WRONG = "a, b = map(int, input().split())\nprint(a - b)\n"
FIXED = "a, b = map(int, input().split()); print(a + b)"


@pytest.fixture
def app_config():
    return {"LAB_EXECUTOR": "local", "LAB_WORKERS": 2, "LAB_POLL_SECONDS": 0.2}


@pytest.fixture
def lab_world(app):
    with app.app_context():
        org = make_org()
        learner = make_user(org=org, email="lab.learner@example.test")
        course = make_course(org, title="Python for Production Data")
        lab = make_lab(make_module(course, "Hands-on labs"), title="Lab: add two numbers")
        enrol(learner, course)
        db.session.commit()
        world = {"lab_id": lab.id, "slug": course.slug, "email": learner.email}
    yield world
    executors.stop_local_pool(app)


def test_learner_fails_then_passes_a_lab(app, page, lab_world):
    browser_login(page, lab_world["email"])
    page.goto(f"/courses/{lab_world['slug']}/activities/{lab_world['lab_id']}")
    editor = page.locator(".CodeMirror")
    expect(editor).to_be_visible()
    expect(page.locator(".CodeMirror-linenumber").first).to_be_visible()

    # A wrong solution, put in through the editor's own API.
    page.evaluate("code => document.querySelector('.CodeMirror').CodeMirror.setValue(code)", WRONG)
    page.get_by_role("button", name="Submit for grading").click()
    status = page.locator("[data-lab-status]")
    expect(status).to_have_attribute("aria-live", "polite")
    result = page.locator("[data-lab-result]")
    expect(result.locator(".lab-result__head")).to_contain_text("Wrong answer", timeout=45000)
    failed = result.locator("tr.is-failed", has_text="Small numbers")
    expect(failed).to_contain_text("Wrong answer")
    diff = result.locator(".lab-diff", has_text="Small numbers")
    expect(diff.locator(".lab-diff__expected mark")).to_have_text("5")
    expect(diff.locator(".lab-diff__actual mark")).to_have_text("-1")
    expect(diff.locator(".lab-diff__actual th")).to_have_text("Your output")
    expect(result.locator("tr", has_text="Negative numbers")).to_contain_text("Hidden tests do not")
    expect(status).to_contain_text(re.compile(r"finished: wrong answer, 0%"))

    # The fix, typed with the keyboard.
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(FIXED)
    page.get_by_role("button", name="Submit for grading").click()
    expect(result.locator(".lab-result__head")).to_contain_text("Accepted", timeout=45000)
    expect(result).to_contain_text("2 of 2 tests passed")
    history = page.locator("[data-lab-history]")
    expect(history.locator("[data-lab-best]")).to_have_text("100%")
    expect(history.locator("tbody tr")).to_have_count(2)

    with app.app_context():
        done = db.session.scalar(
            select(ActivityCompletion).where(ActivityCompletion.activity_id == lab_world["lab_id"])
        )
        assert done.completed and done.grade == 100
    # The course navigation shows the completion tick after a reload.
    page.reload()
    current = page.locator("a[aria-current='page']", has_text="Lab: add two numbers")
    expect(current.locator(".icon--tick")).to_be_visible()
    expect(page.locator("main .tag--success", has_text="Completed").first).to_be_visible()
