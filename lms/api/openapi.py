"""The OpenAPI 3.1 description of /api/v1: ``openapi.yaml`` beside this module.

The document is data, kept in the file people (and API tools) read; this module loads it once,
checks its outline, and adds the site's address. ``tests/test_api_openapi.py`` validates it as
OpenAPI 3.1 and checks it against the routes and real responses.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path

import yaml

from lms.urls import site_url

DOCUMENT_PATH = Path(__file__).with_name("openapi.yaml")


@cache
def _load() -> dict:
    """The document as stored (read and checked once per process)."""
    document = yaml.safe_load(DOCUMENT_PATH.read_text(encoding="utf-8"))
    if not (isinstance(document, dict) and str(document.get("openapi", "")).startswith("3.1")):
        raise RuntimeError(f"{DOCUMENT_PATH} is not an OpenAPI 3.1 document")
    for key in ("info", "paths", "components"):
        if not isinstance(document.get(key), dict):
            raise RuntimeError(f"{DOCUMENT_PATH} has no {key!r} object")
    return document


def openapi_document() -> dict:
    """The OpenAPI 3.1 document served at /api/v1/openapi.json, with this site's server URL."""
    document = copy.deepcopy(_load())
    return {**document, "servers": [{"url": f"{site_url()}/api/v1"}]}
