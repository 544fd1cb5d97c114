"""Bad-input fuzzing of every form and query parameter the crawler finds.

As a trainer, an HR manager and the site admin, each POST form is sent (a) with empty values,
(b) with 20,000-character strings, (c) with values of the wrong type (letters in number fields,
impossible dates, unknown select options, negative numbers) and (d) with NUL characters, which
PostgreSQL refuses in text. Whatever the form, the answer is a 4xx or a redirect, never a 5xx, and
a 4xx answer leaves every table exactly as it was (no half-written rows). Query parameters of the
links and GET forms (filters, sorting, pages) get the same treatment.
"""

from __future__ import annotations

import io
import re
import time
from urllib.parse import parse_qsl, urlencode

import pytest
from flask import got_request_exception
from sqlalchemy import text
from werkzeug.datastructures import MultiDict

from lms.extensions import db
from tests.crawler import crawl, crawl_as, login, shape_of

ROLES = ["trainer@uni.demo", "hr@acme.demo", "admin@cluster.demo", "orgadmin@acme.demo"]
LONG = "x" * 20_000
MAX_FORMS_PER_SHAPE = 2
# Forms that run learner or reference code in the sandbox: seconds per submission, and their
# bad input is covered by the labs' own tests. Everything else about labs is fuzzed.
SANDBOX_ACTIONS = re.compile(r"/labs/\d+/(submissions|validate)")
# Forms whose answer is a result page, not a change: a 200 is their normal answer.
RESULT_PAGES = {"/verify/credential"}
TEXTUAL = {"text", "textarea", "email", "url", "password", "search", "tel"}
VISIBLE = TEXTUAL | {
    "number",
    "date",
    "datetime-local",
    "time",
    "select",
    "range",
    "checkbox",
    "radio",
    "file",
}
BAD_QUERY_VALUES = [
    "abc",
    "-1",
    "99999999999999999999",
    "\u00b2",
    "",
    "2026-13-45",
    "a\x00b",
    LONG[:3000],
]


@pytest.fixture
def app_config():
    # 5xx answers are collected (with their exception) instead of raised into the test.
    return {"PROPAGATE_EXCEPTIONS": False}


def wrong_value(field: dict, index: int) -> str:
    """A value of the wrong type for ``field``."""
    kind = field["type"]
    if kind in ("number", "range"):
        return ["abc", "-5", "1e999", "99999999999999999999"][index % 4]
    if kind == "date":
        return ["2026-13-45", "yesterday"][index % 2]
    if kind in ("datetime-local", "time"):
        return "25:99"
    if kind == "select":
        return "__no_such_option__"
    if kind == "email":
        return "not-an-email"
    if kind == "url":
        return "javascript:alert(1)"
    if kind == "hidden":
        return (
            ["-1", "\u00b2", "99999999999999999999"][index % 3]
            if field["value"].isdigit()
            else field["value"]
        )
    if kind in ("checkbox", "radio"):
        return "__bogus__"
    return ["-1", "abc", "0", "1e999"][index % 4]


def variants(fields: list[dict]):
    """(name, form data) for each kind of bad input."""
    hidden = [(f["name"], f["value"]) for f in fields if f["type"] == "hidden"]
    visible = [f for f in fields if f["type"] in VISIBLE and f["type"] != "file"]
    yield "empty", hidden + [(f["name"], "") for f in visible]
    yield (
        "long",
        hidden + [(f["name"], LONG if f["type"] in TEXTUAL else f["value"]) for f in visible],
    )
    yield (
        "wrong",
        [
            (f["name"], wrong_value(f, i))
            for i, f in enumerate(fields)
            if f["type"] in VISIBLE | {"hidden"} and f["type"] != "file"
        ],
    )
    # float("nan") passes WTForms' NumberRange (every comparison is False); Decimal NaN raises.
    yield (
        "nan",
        hidden
        + [
            (f["name"], "NaN" if f["type"] in TEXTUAL | {"number", "range"} else f["value"])
            for f in visible
        ],
    )
    yield (
        "nul",
        hidden + [(f["name"], "a\x00b" if f["type"] in TEXTUAL else f["value"]) for f in visible],
    )


def row_counts() -> dict[str, int]:
    """Rows per table, in one round trip."""
    sql = " UNION ALL ".join(
        f"SELECT '{t.name}', COUNT(*) FROM \"{t.name}\"" for t in db.metadata.sorted_tables
    )
    return dict(db.session.execute(text(sql)).all())


def pick(forms, limit=MAX_FORMS_PER_SHAPE):
    """A few forms of each shape (the same form for another id adds little)."""
    per_shape: dict[str, int] = {}
    for form in forms:
        if not any(f["type"] in VISIBLE for f in form.fields):
            continue  # a bare button: nothing to fuzz
        if SANDBOX_ACTIONS.fullmatch(form.action):
            continue
        shape = shape_of(form.action.split("?", 1)[0])
        if per_shape.get(shape, 0) < limit:
            per_shape[shape] = per_shape.get(shape, 0) + 1
            yield form


def query_probes(result):
    """(url) with one query parameter replaced by a bad value, for links and GET forms."""
    bases: dict[str, dict[str, str]] = {}
    for url in result.pages:
        if "?" in url:
            path, query = url.split("?", 1)
            bases.setdefault(shape_of(path), {"path": path}).update(dict(parse_qsl(query)))
    for form in result.get_forms:
        path = form.action.split("?", 1)[0]
        params = {f["name"]: f["value"] for f in form.fields if f["type"] != "submit"}
        bases.setdefault(shape_of(path), {"path": path}).update(params)
    for params in bases.values():
        path = params.pop("path")
        for name in params:
            for bad in BAD_QUERY_VALUES:
                yield path + "?" + urlencode({**params, name: bad})


@pytest.mark.parametrize("role", ROLES)
def test_bad_input_never_crashes(app, client, demo, role):
    login(client, role)
    result = crawl_as(app, role)
    assert not result.failures, result.failures
    errors: list[BaseException] = []

    def record(sender, exception, **extra):
        errors.append(exception)

    got_request_exception.connect(record, app)
    problems: list[str] = []
    started = time.monotonic()

    probes = list(query_probes(result))
    for url in probes:
        errors.clear()
        response = client.get(url)
        response.close()
        if response.status_code >= 500:
            detail = "; ".join(f"{type(e).__name__}: {e}"[:300] for e in errors)
            problems.append(f"GET {url[:200]!r} -> {response.status_code} {detail}")

    forms = list(pick(result.forms))
    submissions = 0
    redirects: dict[str, str] = {}
    # The counts after a 4xx answer are the counts before the next submission (nothing writes in
    # between); after any other answer they are counted again.
    counted = None
    for form in forms:
        for kind, data in variants(form.fields):
            if counted is None:
                with app.app_context():
                    counted = row_counts()
            before, counted = counted, None
            errors.clear()
            response = client.post(form.action, data=MultiDict(data))
            response.close()
            submissions += 1
            status = response.status_code
            where = f"{form.action} ({kind}, form on {form.page})"
            if status >= 500:
                detail = "; ".join(f"{type(e).__name__}: {e}"[:300] for e in errors)
                problems.append(f"{where} -> {status} {detail}")
            elif 400 <= status < 500:
                with app.app_context():
                    after = counted = row_counts()
                changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
                if changed:
                    problems.append(f"{where} -> {status} but rows changed: {changed}")
            elif status == 200 and form.action not in RESULT_PAGES:
                problems.append(f"{where} -> 200 (expected 4xx or a redirect)")
            elif 300 <= status < 400:
                with client.session_transaction() as session:
                    flashed = session.get("_flashes")
                if not flashed:
                    problems.append(f"{where} -> {status} without a flash message")
                target = response.headers["Location"]
                redirects.setdefault(shape_of(target.split("?", 1)[0]), target)
    # The pages those redirects lead to (reached only after a POST) follow the HTML rules too.
    for target in list(redirects.values())[:40]:
        problems.extend(crawl(client, role, start=(target,), max_pages=1).failures)
    got_request_exception.disconnect(record, app)
    print(
        f"{role}: {len(probes)} query probes, {len(forms)} forms, {submissions} submissions, "
        f"{time.monotonic() - started:.1f}s"
    )
    assert forms and probes
    # Still signed in: no submission quietly ended the session and made the rest pass vacuously.
    assert client.get("/dashboard").status_code == 200
    assert not problems, "\n".join(problems)


BAD_FILES = [
    ("a\x00b.png", b"x"),
    ("../../etc/passwd", b"root:x:0:0"),
    ("x" * 300 + ".zip", b"PK\x03\x04junk"),
    ("", b""),
    ("empty.zip", b""),
    ("course.zip", b"not a zip at all"),
    ("cover.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100),
    ("ü n i c o d e.txt", "é".encode()),
]


def test_uploads_survive_bad_files(app, client, demo):
    """Every upload form of a course author gets broken, empty, misnamed and mislabelled files."""
    from tests.crawler import parse

    login(client, "trainer@uni.demo")
    pages = [
        "/courses/import",
        "/courses/python-for-production-data/files",
        "/courses/python-for-production-data/edit",
        "/verify/credential",
    ]
    errors: list[BaseException] = []

    def record(sender, exception, **extra):
        errors.append(exception)

    got_request_exception.connect(record, app)
    problems, sent = [], 0
    for url in pages:
        for form in parse(client.get(url).get_data(as_text=True)).forms:
            uploads = [f["name"] for f in form["fields"] if f["type"] == "file"]
            if form["method"] != "post" or not uploads:
                continue
            base = [
                (f["name"], f["value"])
                for f in form["fields"]
                if f["type"] not in ("file", "submit", "checkbox", "radio")
            ]
            for filename, content in BAD_FILES:
                data = MultiDict(base)
                for name in uploads:
                    data.add(name, (io.BytesIO(content), filename))
                errors.clear()
                response = client.post(form["action"] or url, data=data)
                response.close()
                sent += 1
                if response.status_code >= 500:
                    problems.append(f"{url} {filename[:20]!r} -> {response.status_code} {errors}")
    got_request_exception.disconnect(record, app)
    assert sent >= 4 * len(BAD_FILES)
    assert not problems, "\n".join(problems)
    # The uploaded names render safely on the files page.
    assert client.get("/courses/python-for-production-data/files").status_code == 200


def test_unknown_choices_are_never_saved(app, client, demo):
    """A select or radio value that is not one of its options is refused, never silently
    replaced by a default and reported as saved (one field at a time, the rest as rendered)."""
    role = "admin@cluster.demo"
    login(client, role)
    accepted, sent = [], 0
    for form in pick(crawl_as(app, role).forms):
        for choice in {f["name"] for f in form.fields if f["type"] in ("select", "radio")}:
            data = MultiDict(
                (f["name"], f["value"])
                for f in form.fields
                if f["name"] != choice
                and f["type"] != "submit"
                and (f["type"] not in ("checkbox", "radio") or f["checked"])
            )
            data.add(choice, "__no_such_option__")
            response = client.post(form.action, data=data)
            response.close()
            sent += 1
            with client.session_transaction() as session:
                flashed = session.pop("_flashes", [])
            if response.status_code < 400 and any(cat == "success" for cat, _ in flashed):
                accepted.append(f"{form.action} {choice}: {flashed}")
    assert sent > 20
    assert not accepted, "\n".join(accepted)
