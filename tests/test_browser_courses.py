"""Browser journeys: two partners co-author and publish a course; a student learns in one."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from courses.seed import seed_courses
from lms.domain.models import Course, Enrolment
from lms.extensions import db
from lms.progress.models import ActivityCompletion
from tests.conftest import browser_login
from tests.courses_factories import make_cluster

pytestmark = pytest.mark.browser


@pytest.fixture
def cluster(app):
    with app.app_context():
        c = make_cluster()
        db.session.commit()
        yield c


def test_two_partners_co_author_and_publish(app, cluster, page, browser, live_server):
    browser_login(page, "trainer@uni.demo")
    page.get_by_role("link", name="Authoring").click()
    page.get_by_role("link", name="New course").first.click()
    page.fill("#title", "Maintenance Analytics")
    page.fill("#summary", "Predict failures from **vibration** data.")
    page.select_option(f"#partner_{cluster.acme.id}", "industry_partner")
    page.get_by_role("button", name="Create course").click()
    page.wait_for_url("**/courses/maintenance-analytics/structure")
    assert "created as a draft" in page.inner_text(".flashes")

    page.fill("#title", "Vibration basics")
    page.get_by_role("button", name="Add module").click()
    page.get_by_role("link", name="Add an activity to “Vibration basics”").click()
    page.get_by_role("link", name="Add a lesson").click()
    page.fill("#title", "What a bearing sounds like")
    page.fill("textarea[name='type-body']", "## Spectra\n\nA healthy bearing has a flat spectrum.")
    page.get_by_role("button", name="Add lesson").click()
    assert "added" in page.inner_text(".flashes")

    page.get_by_role("link", name="Review and sign-off").first.click()
    page.get_by_role("button", name="Submit for review").click()
    assert "is in review" in page.inner_text(".flashes")
    page.fill("#comment", "Matches the MAINT-310 syllabus.")
    page.get_by_role("button", name="Sign off for Northfield University").click()
    assert "Signed off for Northfield University" in page.inner_text(".flashes")
    # Publishing is not offered while a partner has not signed: disabled, with the reason.
    publish = page.get_by_role("button", name="Publish course")
    assert publish.is_disabled()
    assert "once Acme Manufacturing has signed off" in page.inner_text("#publish-blocked")

    acme = browser.new_context(base_url=live_server).new_page()
    browser_login(acme, "trainer@acme.demo")
    acme.goto("/dashboard")
    acme.get_by_role("link", name=re.compile("Awaiting your sign-off for Acme")).click()
    acme.get_by_role("button", name="Sign off for Acme Manufacturing").click()
    acme.get_by_role("button", name="Publish course").click()
    assert "is published" in acme.inner_text(".flashes")
    assert "Published" in acme.inner_text(".page-header")
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == "maintenance-analytics"))
        assert course.status == "published" and len(course.signoffs) == 2
        assert {p.organization.slug for p in course.partners} == {"northfield", "acme"}


def test_student_enrols_reads_a_lesson_and_takes_a_quiz(app, cluster, page):
    with app.app_context():
        seed_courses()
        db.session.commit()
    browser_login(page, "student@uni.demo")
    page.get_by_role("link", name="Catalog").click()
    page.get_by_role("link", name="Quality Management with Statistics").click()
    page.get_by_role("button", name="Enrol in this course").click()
    assert "You are enrolled" in page.inner_text(".flashes")

    page.get_by_role("link", name="Start the course").click()
    assert page.inner_text("h1") == "Common and special causes of variation"
    assert "Tampering makes things worse" in page.inner_text(".activity-main")
    nav = page.locator(".course-nav")
    assert nav.locator("a[aria-current=page]").inner_text().strip().startswith("Common and special")
    page.get_by_role("link", name="Process capability: Cp and Cpk →").click()
    assert page.locator(".activity-main img[alt='Control chart of shaft diameters']").count() == 1
    page.get_by_role("link", name=re.compile("X-bar and R charts →")).click()
    page.get_by_role("link", name=re.compile("Quiz: variation, capability")).first.click()

    page.get_by_role("button", name="Start attempt").click()
    answers = {"What is Cp?": "2", "What is Cpk?": "0.67"}
    for fieldset in page.locator("fieldset.quiz-question").all():
        prompt = fieldset.inner_text()
        value = next(v for k, v in answers.items() if k in prompt)
        fieldset.locator("input[type=text]").fill(value)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Submit answers").click()
    page.wait_for_selector(".quiz-score")
    assert "100.0%" in page.inner_text(".quiz-score") and "Passed" in page.inner_text(".quiz-score")
    with app.app_context():
        enrolment = db.session.scalar(
            select(Enrolment).where(Enrolment.user_id == cluster.student.id)
        )
        assert enrolment.status == "active"
        done = db.session.scalars(
            select(ActivityCompletion).where(ActivityCompletion.user_id == cluster.student.id)
        ).all()
        assert len([d for d in done if d.completed]) >= 4
