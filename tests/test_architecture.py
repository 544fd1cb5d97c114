"""The shape rules the import checks cannot see: core never names a plugin's endpoints, keys or
assets; it asks the registry (lms.links, ActivityType.xapi_activity_type, stylesheets)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_BLUEPRINTS = ("courses", "labs", "quiz", "lesson", "assignment", "forum", "jobe")
CORE_TEMPLATE_DIRS = ("progress", "hr", "main", "skills", "certificates", "lti", "gradebook",
                      "calendar", "admin", "auth", "tokens", "errors", "cluster")  # fmt: skip
ENDPOINT = re.compile(r"""['"](""" + "|".join(PLUGIN_BLUEPRINTS) + r""")\.[a-z_]+['"]""")


def _core_files():
    yield from (p for p in (ROOT / "lms").rglob("*.py"))
    for folder in CORE_TEMPLATE_DIRS:
        yield from (ROOT / "templates" / folder).rglob("*.html")
    yield from (ROOT / "templates").glob("*.html")


def test_core_names_no_plugin_endpoint():
    offenders = []
    for path in _core_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "ForeignKey(" in line:
                continue
            if ENDPOINT.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "core must ask lms.links / the registry:\n" + "\n".join(offenders)


def test_core_names_no_plugin_key_in_xapi_and_keeps_no_plugin_assets():
    statements = (ROOT / "lms" / "xapi" / "statements.py").read_text()
    for key in ("lesson", "quiz", "lab", "assignment", "forum"):
        assert f'"{key}"' not in statements, key
    static = {p.name for p in (ROOT / "lms" / "static").rglob("*")}
    assert not static & {"courses.js", "courses.css", "labs.css"}


def test_links_and_assets_come_from_the_registry(app):
    from lms.links import activity_url, catalog_url, course_url
    from lms.plugins import plugin_stylesheets

    class Course:
        slug = "data-101"

    with app.test_request_context():
        assert course_url(Course()) == "/courses/data-101"
        assert activity_url(Course(), 7) == "/courses/data-101/activities/7"
        assert catalog_url() == "/courses/"
        assert course_url(Course(), external=True).startswith(app.config["SITE_URL"].rstrip("/"))
        assert ("courses.static", "courses.css") in plugin_stylesheets()
        assert ("labs.static", "labs.css") in plugin_stylesheets()
