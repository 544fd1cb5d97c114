"""Versioned static files: every URL ``url_for`` builds for a static file carries a digest of the
file's content (``?v=...``), and an answer to such a URL may be kept by browsers and proxies for a
year. A page view then costs one request, not one more per stylesheet and script to check that
each is unchanged; a changed file gets a new URL, so nobody keeps an old one.

A static URL without the digest, or with an old one (a page rendered before a release), is
answered as before: the current file, checked again at each use (``no-cache`` with an ETag).
"""

from __future__ import annotations

import hashlib
import os
import threading

from flask import Flask, Response, current_app, request
from werkzeug.security import safe_join

YEAR = 365 * 24 * 3600
_DIGESTS = "lms.asset_digests"
_lock = threading.Lock()


def _is_static(endpoint: str | None) -> bool:
    return bool(endpoint) and (endpoint == "static" or endpoint.endswith(".static"))


def _folder(endpoint: str) -> str | None:
    app = current_app
    if endpoint == "static":
        return app.static_folder
    blueprint = app.blueprints.get(endpoint.rsplit(".", 1)[0])
    return blueprint.static_folder if blueprint is not None else None


def digest(endpoint: str, filename: str) -> str | None:
    """The version of a static file: 12 hex digits of its SHA-256 (None if there is no file).

    Kept per process and read again only when the file's size or modification time changes.
    """
    folder = _folder(endpoint)
    path = safe_join(folder, filename) if folder else None
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    known = current_app.extensions.setdefault(_DIGESTS, {})
    stamp = (stat.st_mtime_ns, stat.st_size)
    entry = known.get(path)
    if entry is None or entry[0] != stamp:
        with open(path, "rb") as fh:
            entry = (stamp, hashlib.sha256(fh.read()).hexdigest()[:12])
        with _lock:
            known[path] = entry
    return entry[1]


def _add_version(endpoint: str, values: dict) -> None:
    if _is_static(endpoint) and "v" not in values and "filename" in values:
        version = digest(endpoint, values["filename"])
        if version is not None:
            values["v"] = version


def _keep_versioned(response: Response) -> Response:
    """A year for the answer to a URL that names the file's current version."""
    wanted = request.args.get("v")
    if (
        wanted
        and response.status_code == 200
        and _is_static(request.endpoint)
        and wanted == digest(request.endpoint, (request.view_args or {}).get("filename", ""))
    ):
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response


def init_app(app: Flask) -> None:
    """Version every static URL and let browsers keep what a versioned URL answers."""
    app.url_defaults(_add_version)
    app.after_request(_keep_versioned)
