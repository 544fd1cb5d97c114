"""Permission leak probes: what Acme's people can open, Globex's and Northfield's cannot.

The crawler collects every page that answered 200 to Acme's HR manager, trainer, learner and org
admin. Each of those URLs is then requested as people of other organizations: apart from an
explicit allow-list of pages that are shared on purpose, every one must answer 403/404 (or
redirect away), never 200 with Acme's data.
"""

from __future__ import annotations

import re

import pytest

from tests.crawler import crawl, crawl_as, login

OWNERS = ["hr@acme.demo", "trainer@acme.demo", "employee@acme.demo", "orgadmin@acme.demo"]
OUTSIDERS = ["hr@globex.demo", "employee@globex.demo", "student@uni.demo"]

# Pages every signed-in person has (their own dashboard, learning, account, certificates and
# xAPI record), the public certificate verification and signing keys, and the catalog.
SHARED = [
    r"/dashboard",
    r"/learning",
    r"/skills/me(\?.*)?",
    r"/notifications",
    r"/auth/account",
    r"/certificates/",
    r"/xapi/",
    r"/xapi/me\.json",
    r"/verify/.*",
    r"/\.well-known/.*",
    r"/api/v1/openapi\.json",
    r"/courses/(\?.*)?",
    r"/static/.*",
    r"/calendar(\?.*)?",  # one's own due dates
    r"/gradebook/\d+/me",  # one's own grades (404 unless enrolled in that course)
    # The cluster's shared pages: each viewer sees their own organization in detail and only
    # cluster totals of the others; placements are offered to the whole cluster (applications
    # shown per viewer); the report and transparency pages are public.
    r"/cluster/(\?.*)?",
    r"/cluster/signals(\?.*)?",
    r"/cluster/placements(/new|/\d+)?(\?.*)?",
    r"/cluster/report(\?.*)?",
    r"/cluster/transparency(/.*)?",
]
# Course pages are shared with whoever the course is open to: Warehouse automation is published to
# the whole cluster; Northfield co-designs the two Acme courses and its student is enrolled in them.
CLUSTER_COURSES = {"warehouse-automation-basics"}
NORTHFIELD_COURSES = {"python-for-production-data", "quality-management-with-statistics"}
OPEN_COURSES = {
    "hr@globex.demo": CLUSTER_COURSES,
    "employee@globex.demo": CLUSTER_COURSES,
    "student@uni.demo": CLUSTER_COURSES | NORTHFIELD_COURSES,
}
# The learner-side pages of a course that is open to someone (not its authoring pages).
COURSE_PAGE = re.compile(r"/courses/(?P<slug>[^/?]+)(/activities/\d+|/files/\d+/[^/?]+)?(\?.*)?")
# The forums of the Python course, where Northfield's enrolled student talks with Acme's learners:
# posts carry their authors' names to the course's members on purpose.
COURSE_FORUM = re.compile(r"/forum/(threads/\d+(\?reply_to=\d+)?|\d+/new)")
SHARED_RE = re.compile("|".join(f"(?:{p})" for p in SHARED))
# Acme's learners: their names must not show up on any page an outsider can open (except the public
# verification of a certificate, which names its holder on purpose).
ACME_LEARNERS = ["Marco Rossi", "Lena Vogel"]


def allowed(outsider: str, url: str) -> bool:
    """Is ``url`` legitimately open to ``outsider``?"""
    if SHARED_RE.fullmatch(url):
        return True
    if outsider == "student@uni.demo" and COURSE_FORUM.fullmatch(url):
        return True
    match = COURSE_PAGE.fullmatch(url)
    return bool(match and match["slug"] in OPEN_COURSES[outsider])


@pytest.fixture
def acme_urls(demo):
    """URL -> the Acme account that could open it (status 200)."""
    urls: dict[str, str] = {}
    for owner in OWNERS:
        result = crawl_as(demo, owner)
        assert not result.failures, result.failures
        for url, page in result.pages.items():
            if page.status == 200:
                urls.setdefault(url, owner)
    return urls


@pytest.fixture
def acme_forms(demo):
    """(owner, form) for every POST form Acme's people saw."""
    return [(owner, form) for owner in OWNERS for form in crawl_as(demo, owner).forms]


def test_allow_list_is_not_everything():
    assert not allowed("hr@globex.demo", "/hr/")
    assert not allowed("hr@globex.demo", "/courses/python-for-production-data")
    assert allowed("student@uni.demo", "/courses/python-for-production-data/activities/3")
    assert not allowed("student@uni.demo", "/courses/python-for-production-data/enrolments")


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_other_organizations_cannot_open_acme_pages(app, acme_urls, outsider):
    """Every org- or course-scoped page Acme's people saw is closed to other organizations."""
    assert len(acme_urls) > 100, "the crawl should reach Acme's HR, admin and authoring pages"
    client = app.test_client()
    login(client, outsider)
    leaks = []
    probed = 0
    for url, owner in sorted(acme_urls.items()):
        response = client.get(url)
        body = response.get_data(as_text=True) if "html" in response.content_type else ""
        response.close()
        if allowed(outsider, url):
            forum = 'class="forum"' in body or COURSE_FORUM.fullmatch(url)
            if response.status_code == 200 and not url.startswith("/verify/") and not forum:
                named = [name for name in ACME_LEARNERS if name in body]
                if named:
                    leaks.append(f"{url} (shared page) names Acme learners {named}")
            continue
        probed += 1
        if response.status_code == 200 or response.status_code >= 500:
            leaks.append(f"{url} (seen by {owner}) -> {response.status_code}")
    assert probed > 50
    assert not leaks, f"{outsider} can open:\n" + "\n".join(leaks)


# Forms every signed-in person may send for themselves, and enrolment in courses open to them.
SHARED_POSTS = re.compile(
    r"/auth/account|/verify/credential|/notifications/read|/calendar/feed(/revoke)?"
    r"|/cluster/transparency"  # anyone may verify a saved ledger checkpoint
)
OPEN_COURSE_POST = re.compile(r"/courses/(?P<slug>[^/?]+)/(enrol|unenrol)")
# Northfield's student is enrolled in the co-designed Python course, whose quizzes she may start
# and whose labs she may submit to (labs of courses she is not enrolled in refuse with a flash).
LEARNER_POSTS = re.compile(
    r"/quiz/\d+/start|/labs/\d+/submissions"
    # ...and, in that course, hand in work, review peers, post in its forum and report posts.
    r"|/assignment/\d+/(save|revert|reviews/allocate)"
    r"|/forum/\d+/(new|subscription)|/forum/threads/\d+/reply|/forum/posts/\d+/report"
    # ...and, as a student of a partner university, apply to enterprises' placements.
    r"|/cluster/placements/\d+/apply"
)


def post_allowed(outsider: str, action: str) -> bool:
    if SHARED_POSTS.fullmatch(action):
        return True
    match = OPEN_COURSE_POST.fullmatch(action)
    if match:
        return match["slug"] in OPEN_COURSES[outsider]
    return outsider == "student@uni.demo" and bool(LEARNER_POSTS.fullmatch(action))


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_other_organizations_cannot_send_acme_forms(app, acme_forms, outsider):
    """Every POST form Acme's people saw, sent as it was rendered, is refused to outsiders
    (403/404) and changes nothing."""
    from werkzeug.datastructures import MultiDict

    from tests.test_fuzz_forms import row_counts

    client = app.test_client()
    login(client, outsider)
    leaks, sent = [], set()
    # Nothing writes between one form's count after and the next form's count before: one count
    # a form serves as both (it is a ~90-table count, twice a form was most of this test).
    with app.app_context():
        after = row_counts()
    for owner, form in acme_forms:
        if form.action in sent or post_allowed(outsider, form.action):
            continue
        sent.add(form.action)
        data = MultiDict(
            (f["name"], f["value"])
            for f in form.fields
            if f["type"] != "submit" and (f["type"] not in ("checkbox", "radio") or f["checked"])
        )
        before = after
        response = client.post(form.action, data=data)
        response.close()
        with app.app_context():
            after = row_counts()
        changed = {t for t, n in after.items() if before[t] != n}
        if response.status_code not in (403, 404) or changed:
            leaks.append(f"{form.action} (from {owner}) -> {response.status_code} {changed or ''}")
    assert len(sent) > 50
    assert not leaks, f"{outsider} could send:\n" + "\n".join(leaks)


def test_learners_cannot_open_each_others_quiz_attempts(app, demo):
    """Marco and Lena (both Acme) take the same quiz: neither can read or change the other's
    attempt, nor can Acme's HR manager answer for them."""
    lena, marco, hr = (app.test_client() for _ in range(3))
    login(lena, "employee2@acme.demo")
    login(marco, "employee@acme.demo")
    login(hr, "hr@acme.demo")
    starts = {f.action for f in crawl(lena, "lena").forms if f.action.endswith("/start")}
    assert starts, "Lena has a quiz to start"
    for start in sorted(starts):
        attempt_url = lena.post(start).headers["Location"]
        assert lena.get(attempt_url).status_code == 200
        for other in (marco, hr):
            assert other.get(attempt_url).status_code in (403, 404)
            for action in ("save", "submit"):
                response = other.post(f"{attempt_url}/{action}", data={"auto_submit": "0"})
                assert response.status_code in (403, 404), (start, action, response.status_code)
        assert lena.get(attempt_url).status_code == 200  # still open: nobody submitted it


PUBLIC = re.compile(
    r"/verify/.*|/\.well-known/educluster-keys\.json|/api/v1/openapi\.json|/static/.*"
    r"|/certificates/issuer\.json"
    r"|/cluster/report(\?.*)?|/cluster/transparency(/.*)?"  # the cluster's public accountability
)


def test_signed_out_visitors_see_only_public_pages(app, acme_urls, acme_forms):
    """Every page and form Acme's people use asks a signed-out visitor to sign in (or is
    refused), apart from the public certificate verification, signing keys and API description."""
    from tests.test_fuzz_forms import row_counts

    client = app.test_client()
    leaks = []
    for url in sorted(acme_urls):
        response = client.get(url)
        response.close()
        to_login = response.status_code == 302 and "/auth/login" in response.headers["Location"]
        if PUBLIC.fullmatch(url):
            continue
        if not (to_login or response.status_code in (401, 403, 404)):
            leaks.append(f"GET {url} -> {response.status_code}")
    with app.app_context():
        before = row_counts()
    for action in sorted({form.action for _, form in acme_forms}):
        response = client.post(action, data={})
        response.close()
        to_login = response.status_code == 302 and "/auth/login" in response.headers["Location"]
        if not (to_login or 400 <= response.status_code < 500):
            leaks.append(f"POST {action} -> {response.status_code}")
    with app.app_context():
        assert row_counts() == before
    assert not leaks, "\n".join(leaks)
