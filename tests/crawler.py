"""A small breadth-first crawler over the Flask test client, shared by the QA tests.

It follows same-site ``<a href>`` links (and redirects), fetches every static file a page
references once, records the POST forms it sees, and checks each HTML page against the rules the
whole product follows: no 5xx, no leaked template/Python error, exactly one ``<h1>``, a
``<title>``, nothing the CSP would block (inline ``<script>``, ``<style>``, ``style=`` or
``on*=`` attributes).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urldefrag, urlencode, urlsplit

from flask import got_request_exception

PASSWORD = "demo-pass-2026"

ROLES = [
    "admin@cluster.demo",
    "trainer@uni.demo",
    "student@uni.demo",
    "trainer@acme.demo",
    "hr@acme.demo",
    "employee@acme.demo",
    "hr@globex.demo",
    "orgadmin@acme.demo",
    # Not in the QA brief's list, but cheap and each sees a few pages nobody else does.
    "trainer@globex.demo",
    "employee@globex.demo",
    "employee2@acme.demo",
]

SKIP_PREFIXES = ("/auth/logout",)
# A page reached with more than this many different query strings is not crawled further:
# sort and filter links multiply pages without reaching new code.
MAX_QUERY_VARIANTS = 3
MAX_PAGE_NUMBER = 2
# Pages of the same shape (same path with other ids or codes) render the same template: a few of
# each shape are enough.
MAX_PER_SHAPE = 8
_ID_SEGMENT = re.compile(r"^(?=.*\d)[\w.-]+$")
ERROR_MARKERS = (
    "Traceback (most recent call last)",
    "jinja2.exceptions",
    "UndefinedError",
    "werkzeug.routing",
    "sqlalchemy.exc",
)
# Values with no executable meaning: data blocks are not scripts for the CSP.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json", "text/template"}


@dataclass
class Form:
    """One ``<form>`` as the crawler saw it."""

    page: str
    action: str
    fields: list[dict] = field(default_factory=list)
    method: str = "post"


@dataclass
class Page:
    url: str
    status: int
    content_type: str
    body: str = ""


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.static: list[str] = []
        self.h1 = 0
        self.title = ""
        self._in_title = False
        self.problems: list[str] = []
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: dict | None = None
        self._textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for name, _value in attrs:
            if name == "style":
                self.problems.append(f"style= attribute on <{tag}>")
            elif name.startswith("on"):
                self.problems.append(f"{name}= handler on <{tag}>")
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "h1":
            self.h1 += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "style":
            self.problems.append("inline <style> element")
        elif tag == "script":
            if not a.get("src") and (a.get("type") or "").lower() not in DATA_SCRIPT_TYPES:
                self.problems.append("inline <script> without src")
            elif a.get("src"):
                self.static.append(a["src"])
        elif tag == "link" and a.get("href") and a.get("rel") in ("stylesheet", "icon", "preload"):
            self.static.append(a["href"])
        elif tag == "img" and a.get("src"):
            self.static.append(a["src"])
        elif tag == "form":
            self._form = {
                "method": (a.get("method") or "get").lower(),
                "action": a.get("action") or "",
                "enctype": a.get("enctype") or "",
                "fields": [],
            }
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "button") and a.get("name"):
            self._form["fields"].append(
                {
                    "tag": tag,
                    "name": a["name"],
                    "type": (a.get("type") or ("submit" if tag == "button" else "text")).lower(),
                    "value": a.get("value") or "",
                    "checked": "checked" in a,
                    "required": "required" in a,
                }
            )
        elif self._form is not None and tag == "textarea" and a.get("name"):
            self._textarea = {"tag": "textarea", "name": a["name"], "type": "textarea", "value": ""}
            self._form["fields"].append(self._textarea)
        elif self._form is not None and tag == "select" and a.get("name"):
            self._select = {
                "tag": "select",
                "name": a["name"],
                "type": "select",
                "options": [],
                "value": "",
                "multiple": "multiple" in a,
            }
            self._form["fields"].append(self._select)
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select["options"].append(value)
            if "selected" in a or not self._select["value"]:
                self._select["value"] = value

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._textarea is not None:
            self._textarea["value"] += data


def parse(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return parser


def login(client, email: str) -> None:
    """Log ``email`` in on ``client`` (asserts the login worked)."""
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, f"login of {email} failed ({response.status_code})"


def normalise(href: str, base: str) -> str | None:
    """A same-site path with query, or None for links the crawler does not follow."""
    from urllib.parse import urljoin

    href = href.strip()
    if not href or href.startswith(("mailto:", "tel:", "javascript:", "#", "data:")):
        return None
    url, _ = urldefrag(urljoin("http://localhost" + base, href))
    parts = urlsplit(url)
    if parts.netloc not in ("localhost", ""):
        return None
    path = parts.path or "/"
    if path.startswith(SKIP_PREFIXES):
        return None
    query = parse_qsl(parts.query, keep_blank_values=True)
    for key, value in query:
        if key == "page" and value.isdigit() and int(value) > MAX_PAGE_NUMBER:
            return None
    return path + ("?" + urlencode(sorted(query)) if query else "")


def shape_of(path: str) -> str:
    """``/certificates/AB12-CD34`` and ``/certificates/EF56-GH78`` have the same shape."""
    return "/".join("<id>" if _ID_SEGMENT.match(part) else part for part in path.split("/"))


@dataclass
class CrawlResult:
    role: str
    pages: dict[str, Page] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)
    get_forms: list[Form] = field(default_factory=list)
    # link target -> page it was found on (for error messages)
    found_on: dict[str, str] = field(default_factory=dict)


_STATIC_SEEN: dict[str, int] = {}


def crawl(client, role: str, start=("/", "/dashboard"), max_pages: int = 250) -> CrawlResult:
    """Breadth-first crawl as whoever is logged in on ``client``; returns pages and failures."""
    result = CrawlResult(role)
    queue = deque(start)
    seen = set(start)
    errors: list[BaseException] = []

    def record(sender, exception, **extra):
        errors.append(exception)

    got_request_exception.connect(record, client.application)
    try:
        _crawl(client, result, queue, seen, max_pages, errors)
    finally:
        got_request_exception.disconnect(record, client.application)
    return result


def _crawl(client, result, queue, seen, max_pages, errors) -> None:
    role = result.role
    variants: dict[str, int] = {}
    shapes: dict[str, int] = {}
    form_keys: set[tuple] = set()
    while queue and len(result.pages) < max_pages:
        url = queue.popleft()
        errors.clear()
        response = client.get(url)
        # Read and close every response: a streamed one keeps its request context open until then.
        ctype = response.headers.get("Content-Type", "")
        data = response.get_data()
        response.close()
        body = data.decode("utf-8", "replace") if ctype.startswith("text/html") else ""
        page = Page(url, response.status_code, ctype)
        result.pages[url] = page
        where = result.found_on.get(url, "start")
        if response.status_code >= 500:
            detail = "".join(f" {type(e).__name__}: {e}"[:300] for e in errors)
            result.failures.append(
                f"{role}: {url} -> {response.status_code} (linked from {where}){detail}"
            )
            continue
        if response.status_code == 404 and where != "start":
            result.failures.append(f"{role}: broken link {url} -> 404 (linked from {where})")
        if response.status_code in (301, 302, 303, 307, 308):
            target = normalise(response.headers.get("Location", ""), url)
            if target and target not in seen:
                seen.add(target)
                result.found_on[target] = f"redirect from {url}"
                queue.append(target)
            continue
        if not ctype.startswith("text/html"):
            continue
        page.body = body
        parsed = _check_html(result, url, body)
        for src in parsed.static:
            _check_static(client, result, src, url)
        for form in parsed.forms:
            action = normalise(form["action"] or url, url)
            if action is None:
                continue
            key = (form["method"], action, tuple(sorted(f["name"] for f in form["fields"])))
            if key not in form_keys:
                form_keys.add(key)
                target = result.forms if form["method"] == "post" else result.get_forms
                target.append(Form(url, action, form["fields"], form["method"]))
        for href in parsed.links:
            target = normalise(href, url)
            if target is None or target in seen:
                continue
            path = target.split("?", 1)[0]
            if "?" in target:
                if variants.get(path, 0) >= MAX_QUERY_VARIANTS:
                    continue
                variants[path] = variants.get(path, 0) + 1
            shape = shape_of(path)
            if shapes.get(shape, 0) >= MAX_PER_SHAPE:
                continue
            shapes[shape] = shapes.get(shape, 0) + 1
            seen.add(target)
            result.found_on[target] = url
            queue.append(target)


def _check_html(result: CrawlResult, url: str, body: str) -> _PageParser:
    """Record the HTML rules ``body`` breaks; returns the parsed page (parsing is most of a
    crawl's own time, so it is done once a page)."""
    role = result.role
    for marker in ERROR_MARKERS:
        if marker in body:
            result.failures.append(f"{role}: {url} shows an error ({marker})")
    parsed = parse(body)
    if parsed.h1 != 1:
        result.failures.append(f"{role}: {url} has {parsed.h1} <h1> elements")
    if not parsed.title.strip():
        result.failures.append(f"{role}: {url} has no <title>")
    for problem in sorted(set(parsed.problems)):
        result.failures.append(f"{role}: {url}: {problem}")
    return parsed


def _check_static(client, result: CrawlResult, src: str, page_url: str) -> None:
    target = normalise(src, page_url)
    if target is None:
        return
    if target not in _STATIC_SEEN:
        response = client.get(target)
        _STATIC_SEEN[target] = response.status_code
        response.close()
    if _STATIC_SEEN[target] != 200:
        result.failures.append(
            f"{result.role}: static {target} -> {_STATIC_SEEN[target]} (on {page_url})"
        )


ORG_SCOPE = re.compile(r"/(org|orgs|organizations|hr|admin)/")


_CACHE: dict[tuple[str, str], CrawlResult] = {}
FULL_CRAWL_PAGES = 450


def crawl_as(app, role: str | None) -> CrawlResult:
    """The full crawl of the demo cluster as ``role`` (None: signed out), once per database.

    The crawl test, the leak probes and the form fuzzing all start from the same crawl; the
    demo snapshot comes back with the same ids and codes for every test, so one crawl per role
    and database serves them all (it only reads).
    """
    key = (app.config["SQLALCHEMY_DATABASE_URI"], role or "anonymous")
    if key not in _CACHE:
        client = app.test_client()
        if role:
            login(client, role)
        # Collect a crash as a 500 response with its exception instead of raising it.
        propagate = app.config.get("PROPAGATE_EXCEPTIONS")
        app.config["PROPAGATE_EXCEPTIONS"] = False
        try:
            _CACHE[key] = crawl(client, role or "anonymous", max_pages=FULL_CRAWL_PAGES)
        finally:
            app.config["PROPAGATE_EXCEPTIONS"] = propagate
    return _CACHE[key]
