"""Browser journey of issue 14: a learner submits the scrap report and asks a question; another
learner reviews the report and answers; the trainer grades with the rubric, marks the answer and
releases grades; the learner sees grade, rubric and feedback in the gradebook and the due date in
the calendar feed."""

import re

import pytest
from sqlalchemy import select

from courses.assignment.models import Assignment
from courses.forum.models import Forum
from lms.extensions import db
from tests.conftest import browser_login

pytestmark = pytest.mark.browser


def _new_page(browser, base: str):
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    return context.new_page()


def test_assignment_forum_gradebook_calendar_journey(demo, page, browser, live_server):
    with demo.app_context():
        a = db.session.scalar(select(Assignment))
        f = db.session.scalar(select(Forum))
        slug, aid, fid, due = a.course.slug, a.id, f.id, a.due_at

    # Sara hands in her report with the summary table, then asks a question in the Q&A forum.
    browser_login(page, "student@uni.demo")
    page.goto(f"/courses/{slug}/activities/{aid}")
    page.fill(
        "textarea[name=text]", "## Scrap on line 3\n\nThe rate is **2.4 %** after removing retries."
    )
    page.set_input_files("input[name=files]", files=[{"name": "summary.csv", "mimeType": "text/csv",
                         "buffer": b"shift,rate\nearly,2.2\nlate,2.5\n"}])  # fmt: skip
    page.click("text=Submit for grading")
    page.wait_for_selector("text=Your work was submitted for grading.")
    page.goto(f"/courses/{slug}/activities/{fid}")
    page.click("text=Ask a question")
    page.fill("input[name=title]", "Which timezone does the historian use?")
    page.fill("textarea[name=body]", "The export shows 02:30 twice on 29 March.")
    page.click("button:has-text('Post question')")
    page.wait_for_selector("text=Your discussion was posted.")
    thread_url = page.url

    # Marco reviews a peer's report (anonymised) and answers Sara's question.
    marco = _new_page(browser, live_server)
    browser_login(marco, "employee@acme.demo")
    marco.goto(f"/courses/{slug}/activities/{aid}")
    marco.click("text=Review a peer's work")
    marco.wait_for_selector("text=Peer review: submission 1")
    assert "Sara" not in marco.content()
    for criterion, level in ((0, 2), (1, 2), (2, 1)):
        marco.check(f"#criterion-{criterion}-{level}")
    marco.fill("textarea[name=comment]", "Clear table; say which rows were retries.")
    marco.click("text=Submit review")
    marco.wait_for_selector("text=your review was recorded")
    marco.goto(thread_url)
    marco.fill("textarea[name=body]", "Local plant time: parse with `utc=True` and convert.")
    marco.click("text=Post reply")
    marco.wait_for_selector("text=Your reply was posted.")

    # The trainer grades with the rubric, marks the answer and releases grades.
    trainer = _new_page(browser, live_server)
    browser_login(trainer, "trainer@uni.demo")
    trainer.goto(f"/assignment/{aid}/grading?status=ungraded")
    trainer.click("a:has-text('Grade'):has-text('Sara Lind')")
    for criterion, level in ((0, 2), (1, 1), (2, 2)):
        trainer.check(f"#criterion-{criterion}-{level}")
    trainer.fill("textarea[name=feedback]", "Good reasoning. Show the **retry rows** next time.")
    trainer.click("button:has-text('Save grade')")
    trainer.wait_for_selector("text=Grade saved for Sara Lind.")
    trainer.goto(thread_url)
    trainer.click("text=Mark as the answer")
    trainer.wait_for_selector("text=Marked as the answer.")
    trainer.goto(f"/assignment/{aid}/grading")
    trainer.click("text=Release grades to learners")
    trainer.wait_for_selector("text=Grades released")

    # Sara sees grade, rubric and feedback, in the gradebook too, and the due date in her feed.
    page.goto(f"/courses/{slug}/activities/{aid}")
    page.wait_for_selector("text=Your grade:")
    assert page.locator(".rubric__chosen").count() == 3
    assert "retry rows" in page.content()
    page.goto(f"/courses/{slug}")
    page.click("text=My grades")
    row = page.locator("tr", has_text="Scrap report for line 3")
    trainer_pct, peer_pct = 100 * 8 / 10, 100 * 9 / 10
    assert f"{0.8 * trainer_pct + 0.2 * peer_pct:.1f}%" in row.text_content()
    assert "retry rows" in row.text_content()
    page.goto(thread_url)
    assert page.locator(".post--answer").count() == 1
    page.goto("/calendar")
    page.click("text=Make my feed address")
    feed_url = page.locator(".feed-url").text_content().strip()
    feed = page.request.get(feed_url)
    assert feed.ok and feed.headers["content-type"].startswith("text/calendar")
    body = feed.text()
    assert "SUMMARY:Due: Scrap report for line 3" in body
    assert re.search(rf"DTSTART:{due:%Y%m%dT%H%M%S}Z", body)
