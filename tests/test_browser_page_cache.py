"""Browser journey: a learner's kept pages (lms.pagecache) in a real browser. Pages served
again are the same, and the learner never sees one that misses their own step, a change to the
course, or a message."""

from __future__ import annotations

import pytest

from lms.domain.models import Activity
from lms.extensions import db
from tests import factories as f
from tests.conftest import browser_login
from tests.test_page_cache import world  # noqa: F401 (the fixture)

pytestmark = pytest.mark.browser


def kept(response) -> bool:
    assert response.status == 200
    return response.headers.get("x-page-cache") == "hit"


def test_a_learner_browses_kept_pages_and_always_sees_their_progress(app, world, page):  # noqa: F811
    browser_login(page, "one@pc.test", f.PASSWORD)
    assert not kept(page.goto("/courses/signals"))
    assert kept(page.goto("/courses/signals"))
    assert page.locator(".icon--tick").count() == 0

    # The learner opens a lesson: it is recorded, and the course page shows the tick at once.
    page.get_by_role("link", name="Sampling").first.click()
    page.wait_for_url("**/activities/*")
    assert "twice" in page.inner_text("main")
    course = page.goto("/courses/signals")
    assert not kept(course)
    assert page.locator(".icon--tick").count() == 1
    assert kept(page.goto("/courses/signals"))
    assert page.locator(".icon--tick").count() == 1

    # The course team renames the lesson: the learner's next page shows the new title.
    with app.app_context():
        db.session.get(Activity, world.second).title = "Aliasing and folding"
        db.session.commit()
    assert not kept(page.goto("/courses/signals"))
    assert page.get_by_role("link", name="Aliasing and folding").is_visible()

    # A message is shown once, on a page rendered for it; then pages are kept again.
    page.goto("/courses/control")
    page.get_by_role("button", name="Enrol in this course").click()
    assert "You are enrolled in “Control theory”." in page.inner_text(".flashes")
    assert not kept(page.goto("/courses/control"))
    assert page.locator(".flashes").count() == 0 or "enrolled" not in page.inner_text(".flashes")
    assert kept(page.goto("/courses/control"))
