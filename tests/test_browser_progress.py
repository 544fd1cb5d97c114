"""Browser journeys: HR assigns a program to a department; an employee completes it; HR sees it
completed at once, and the certificate verifies on the public page."""

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.progress.programs import ProgramData, create_program
from tests.conftest import browser_login
from tests.factories import make_lesson
from tests.progress_factories import make_course, make_org, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def journey(app):
    with app.app_context():
        acme = make_org("acme")
        hr = make_user("hr@acme.test", "Hanna Berg", acme, "hr")
        make_user("emp@acme.test", "Lena Vogel", acme, "learner", "Quality")
        make_user("emp2@acme.test", "Jonas Weber", acme, "learner", "Quality")
        make_user("prod@acme.test", "Marco Rossi", acme, "learner", "Production")
        course = make_course("spc-basics", ())
        from lms.domain.models import Module

        module = db.session.scalar(select(Module).where(Module.course_id == course.id))
        make_lesson(module, "Common and special causes", "Variation has **two** sources.")
        program = create_program(
            acme,
            ProgramData(
                "Digital Quality Retraining 2026",
                "retraining",
                "",
                [course.id],
                due_mode="relative",
                due_days=30,
            ),  # fmt: skip
            hr,
        )
        db.session.commit()
        return {"program": program.id}


def test_hr_assigns_department_and_sees_completion_with_certificate(page, browser, journey, app):
    # HR assigns the program to the Quality department.
    browser_login(page, "hr@acme.test")
    page.goto(f"/hr/acme/programs/{journey['program']}")
    page.check("input[name=target][value=department]")
    page.select_option("select[name=department]", label="Quality")
    page.click("text=Assign program")
    page.wait_for_selector("text=Assigned to 2 employees.")
    page.goto("/hr/acme/")
    row = page.locator("tr", has_text="Digital Quality Retraining 2026")
    assert "2 not started" in row.locator("svg > title").first.text_content()

    # The employee sees it in My learning and opens the next activity: that completes it.
    learner = browser.new_context(base_url=page.url.split("/hr/")[0])
    lpage = learner.new_page()
    browser_login(lpage, "emp@acme.test")
    lpage.goto("/learning")
    assert lpage.locator("text=Digital Quality Retraining 2026").count() >= 1
    lpage.click("a:has-text('Common and special causes')")
    lpage.wait_for_load_state()
    lpage.goto("/learning")
    lpage.wait_for_selector("text=View certificate")

    # HR sees the completion at once (no cron).
    page.reload()
    title = page.locator("tr", has_text="Digital Quality Retraining 2026").locator("svg > title")
    assert "1 completed" in title.first.text_content()
    page.goto("/hr/acme/employees?status=completed")
    assert page.locator("text=Lena Vogel").count() == 1

    # The certificate verifies on the public page, without logging in.
    lpage.click("text=View certificate")
    code = lpage.url.rstrip("/").split("/")[-1]
    anonymous = browser.new_context(base_url=page.url.split("/hr/")[0])
    apage = anonymous.new_page()
    apage.goto(f"/verify/{code}")
    assert apage.locator("h1", has_text="Valid certificate").count() == 1
    apage.goto("/verify/" + code[:-1] + ("X" if code[-1] != "X" else "Y"))
    assert apage.locator("h1", has_text="Not valid").count() == 1
    learner.close()
    anonymous.close()
