"""Versioned static files (lms/assets.py): pages link each stylesheet and script with its
content's digest, browsers may keep what such a URL answers for a year, and a changed file gets
a new URL."""

from __future__ import annotations

import re

from flask import Blueprint, url_for

from lms.assets import YEAR, digest


def test_pages_link_static_files_by_version_and_those_are_kept_a_year(client):
    page = client.get("/auth/login")
    assert page.status_code == 200
    links = re.findall(r'(?:href|src)="(/(?:[^"]*/)?static/[^"?]+)\?v=([0-9a-f]{12})"', page.text)
    assert {path for path, _ in links} >= {"/static/css/app.css", "/courses/static/courses.css"}
    for path, version in links:
        answer = client.get(f"{path}?v={version}")
        assert answer.status_code == 200, path
        assert answer.headers["Cache-Control"] == f"public, max-age={YEAR}, immutable"


def test_a_static_url_without_the_current_version_is_checked_at_each_use(client):
    for url in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        answer = client.get(url)
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == "no-cache"
        assert answer.headers["ETag"]
    assert client.get("/static/css/no-such-file.css?v=000000000000").status_code == 404


def test_a_changed_file_gets_a_new_url(app, tmp_path):
    (tmp_path / "widget.js").write_text("console.log(1);\n")
    app.register_blueprint(Blueprint("widgets", __name__, static_folder=str(tmp_path),
                                     static_url_path="/widgets/static"))  # fmt: skip
    with app.test_request_context():
        before = url_for("widgets.static", filename="widget.js")
        assert before == f"/widgets/static/widget.js?v={digest('widgets.static', 'widget.js')}"
        (tmp_path / "widget.js").write_text("console.log(22);\n")
        after = url_for("widgets.static", filename="widget.js")
        assert after != before and after.startswith("/widgets/static/widget.js?v=")
        # A file that is not there gets no version (and answers 404 as before).
        assert url_for("widgets.static", filename="gone.js") == "/widgets/static/gone.js"
    client = app.test_client()
    assert client.get(before).headers["Cache-Control"] == "no-cache"  # an old page's link
    assert client.get(after).headers["Cache-Control"].endswith("immutable")
