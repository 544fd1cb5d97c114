"""Learner pages kept rendered, per person, while nothing they show changes.

A class of learners opening the same course, lesson or quiz over and over costs the server a
render each time: the course outline, the person's progress and locks, the layout. Most of those
renders repeat the one before. ``@cached_page`` keeps each rendered page in the server process,
keyed by person, session and address, with the two *generations* it was rendered under: the
person's own (:mod:`lms.pagecache.generations` adds one whenever a flush changes a row that
belongs to them, such as progress, an attempt or an enrolment) and the site's (any change that
may show on anybody's page, such as a course's text). Both come with the session user's own
query, so a page served again costs that one query and no render; a change committed in any
process makes the page out of date at its next request.

Pages live at most ``PAGE_CACHE_SECONDS`` (60 by default; 0 keeps none), so relative dates and
changes that bypass the ORM are never older than that; a view can shorten it
(:func:`expires_at`), rewrite a countdown when the page is served again (:func:`on_replay`), or
refuse to be kept (:func:`no_store`). Staff pages, which show other people's work, are never
kept. Each process keeps at most ``PAGE_CACHE_ENTRIES`` pages (2,000 by default) and
``PAGE_CACHE_MB`` of them (64 by default; a learner page is 4-12 kB, none over 512 kB is kept).
"""

from __future__ import annotations

from flask import Flask

from lms.auth.sessions import register_session_figure
from lms.pagecache import generations
from lms.pagecache.models import site_generation_subquery, user_generation_subquery
from lms.pagecache.pages import (
    SITE_FIGURE,
    STORE,
    USER_FIGURE,
    cached_page,
    expires_at,
    no_store,
    on_replay,
    page_store,
)
from lms.pagecache.store import PageStore

__all__ = ["cached_page", "expires_at", "init_app", "no_store", "on_replay", "page_store"]


def init_app(app: Flask) -> None:
    """Load the generations with the session user, keep them current, and make the store."""
    register_session_figure(app, USER_FIGURE, user_generation_subquery)
    register_session_figure(app, SITE_FIGURE, site_generation_subquery)
    generations.listen()
    if app.config.get("PAGE_CACHE_SECONDS", 0) > 0:
        app.extensions[STORE] = PageStore(
            app.config.get("PAGE_CACHE_ENTRIES", 2000), app.config.get("PAGE_CACHE_MB", 64) << 20
        )
