"""Layout checks a demanding user would notice: pages fit a 390 px phone without sideways
scrolling, load without console errors (CSP violations show up there), and a verified
certificate prints on one page."""

import re

import pytest
from sqlalchemy import select

from lms.credentials.models import Certificate
from lms.domain.models import Activity, Course
from lms.extensions import db
from tests.conftest import browser_login

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 900}


def _activity_url(title: str) -> str:
    activity = db.session.scalar(select(Activity).where(Activity.title == title))
    course = db.session.get(Course, activity.module.course_id)
    return f"/courses/{course.slug}/activities/{activity.id}"


def _visit(page, url: str, errors: list[str]) -> int:
    """Open ``url``; return how many pixels the document is wider than the viewport."""
    errors.clear()
    response = page.goto(url)
    assert response.status == 200, url
    page.wait_for_load_state("networkidle")
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_trainer_and_hr_pages_fit_a_phone_without_console_errors(demo, page):
    with demo.app_context():
        code_lesson = _activity_url("Loading machine logs with pandas")
        edit_lesson = _activity_url("Why production data is messy") + "/edit"
        course = db.session.scalar(
            select(Course).where(Course.slug == "python-for-production-data")
        )
        bank = f"/quiz/course/{course.id}/questions"
        anna = db.session.scalar(select(Certificate.user_id).limit(1))
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size(PHONE)

    browser_login(page, "trainer@uni.demo")
    # Before the fix: the code block of a lesson, a long <select> in "Restrict access" and
    # visually-hidden spans inside scrolling tables all widened these pages.
    for url in ("/dashboard", code_lesson, edit_lesson, bank):
        assert _visit(page, url, errors) <= 0, url
        assert errors == [], (url, errors)

    page.context.clear_cookies()
    browser_login(page, "hr@acme.demo")
    for url in ("/hr/acme/employees", f"/hr/acme/employees/{anna}"):
        assert _visit(page, url, errors) <= 0, url
        assert errors == [], (url, errors)


def test_verified_certificate_prints_on_one_page(demo, page):
    with demo.app_context():
        code = db.session.scalar(
            select(Certificate.code).where(Certificate.revoked_at.is_(None)).limit(1)
        )
    page.goto(f"/verify/{code}")
    assert page.locator("h1", has_text="Valid certificate").count() == 1
    pdf = page.pdf(format="A4", landscape=True, prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
