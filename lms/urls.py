"""Untrusted input at the edge: the URL id converter, id parsing, the NUL-character guard."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, abort, current_app, request, url_for
from werkzeug.routing import IntegerConverter

# Ids are SQL INTEGER columns: a larger number in a URL names no row. Without this bound,
# PostgreSQL rejects the query ("integer out of range") and the visitor gets a 500, not a 404.
MAX_SQL_INTEGER = 2**31 - 1


class DatabaseIdConverter(IntegerConverter):
    """``<int:...>`` that only matches numbers a SQL INTEGER column can hold (else 404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False) -> None:  # noqa: A002
        super().__init__(
            map,
            fixed_digits=fixed_digits,
            min=min,
            max=MAX_SQL_INTEGER if max is None else max,
            signed=signed,
        )


def parse_id(value: str | None) -> int | None:
    """A database id from untrusted text (query string, form field), or None.

    Only plain ASCII digits within the SQL INTEGER range count: ``str.isdigit()`` also accepts
    ``"²"`` (which ``int()`` refuses) and numbers too large for the database, both 500s before.
    """
    if not value or not value.isascii() or not value.isdigit() or len(value) > 10:
        return None
    number = int(value)
    return number if number <= MAX_SQL_INTEGER else None


NUL_MESSAGE = "The request contains a NUL character, which no text field accepts."


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def reject_nul_characters() -> None:
    """400 for a NUL character in the path, query, form fields or JSON body.

    PostgreSQL text cannot hold NUL ("A string literal cannot contain NUL characters"): every
    filter and form would otherwise answer 500 there (and quietly store it on SQLite). No real text
    contains one, so refusing the request once, here, is simpler than cleaning every field.
    """
    if "\x00" in request.path:
        abort(400, NUL_MESSAGE)
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400, NUL_MESSAGE)
    if request.is_json and _has_nul(request.get_json(silent=True)):
        abort(400, NUL_MESSAGE)


def init_app(app: Flask) -> None:
    """Refuse requests with NUL characters before any view runs."""
    app.before_request(reject_nul_characters)


# --- links that carry the current query string ---------------------------------------------------
def url_with_query(
    endpoint: str, view_args: Mapping[str, Any], query: Iterable[tuple[str, str]]
) -> str:
    """``url_for(endpoint, **view_args)`` followed by ``query`` as the query string.

    Query values never reach ``url_for`` as keyword arguments: there ``?endpoint=``, ``?_external=``,
    ``?_anchor=``, ``?_method=`` or a key named like a path segment (``?org=``, ``?slug=``) would
    clash with its own parameters (a 500) or rewrite the link (another host, a fragment).
    """
    path = url_for(endpoint, **view_args)
    pairs = [(key, value) for key, value in query if value is not None]
    return f"{path}?{urlencode(pairs)}" if pairs else path


def current_url(drop: Iterable[str] = (), **changes: Any) -> str:
    """The current page with its query string, ``drop``-ed keys removed and ``changes`` applied.

    The one way list pages build pagination, sort and export links from the filters in use.
    """
    skip = set(drop) | set(changes)
    query = [(k, v) for k, v in request.args.items(multi=True) if k not in skip]
    query += [(k, str(v)) for k, v in changes.items() if v is not None]
    return url_with_query(request.endpoint or "main.index", request.view_args or {}, query)


# --- addresses outside the site: mails, certificates, credentials, statements ---------------------
def site_url() -> str:
    """The configured public address (``SITE_URL``), without a trailing slash."""
    return current_app.config["SITE_URL"].rstrip("/")


def absolute_url(endpoint: str, **values: Any) -> str:
    """A full link to ``endpoint`` under ``SITE_URL``, with or without a request.

    Never from the request's ``Host`` header: a POST with ``Host: evil.example`` used to mail a
    password-reset link to that host. Works in CLI runs (reminders from cron) too.
    """
    parts = urlsplit(site_url())
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "http"
    )
    return adapter.build(endpoint, values, force_external=True)
