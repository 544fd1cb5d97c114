"""``@cached_page``: a learner page is rendered once and served again to the same person, in the
same session, while nothing it shows has changed (see :mod:`lms.pagecache`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps

from flask import current_app, g, request, session
from flask_login import current_user

from lms.models import Role
from lms.pagecache.store import PageStore, StoredPage
from lms.timeutil import utcnow

STORE = "lms.page_store"
#: The session figures (:func:`lms.auth.sessions.register_session_figure`) a page is valid for.
USER_FIGURE, SITE_FIGURE = "page_generation", "site_generation"
_STAFF = (Role.TRAINER, Role.HR, Role.ORG_ADMIN)
_CSRF = "csrf_token"  # Flask-WTF's session key


@dataclass(slots=True)
class _Render:
    """What the view being rendered says about keeping its page."""

    expires: float
    replay: Callable[[str], str] | None = None
    refused: bool = False


def page_store() -> PageStore | None:
    """This process's store of pages for the current app (None when pages are not kept)."""
    return current_app.extensions.get(STORE)


def expires_at(when: datetime | None) -> None:
    """Keep the page being rendered no later than ``when``, a moment that changes what it shows
    (a deadline, an opening date); moments already past are in the page as rendered."""
    render = g.get("page_render")
    if render is not None and when is not None:
        seconds = (when - utcnow()).total_seconds()
        if seconds > 0:
            render.expires = min(render.expires, time.monotonic() + seconds)


def on_replay(rewrite: Callable[[str], str]) -> None:
    """Rewrite the time-relative parts of the page each time it is served again."""
    render = g.get("page_render")
    if render is not None:
        render.replay = rewrite


def no_store() -> None:
    """Do not keep the page being rendered (it shows something no generation follows)."""
    render = g.get("page_render")
    if render is not None:
        render.refused = True


def _key_and_stamp():
    """(key, stamp) of this request's page, or (None, None) when it is not one to keep."""
    if request.method != "GET" or "_flashes" in session:
        return None, None
    user = current_user
    figures = getattr(user, "session_figures", None)
    if not user.is_authenticated or not figures or USER_FIGURE not in figures:
        return None, None
    # Staff pages show other people's work, which their generations do not follow.
    if user.is_site_admin or user.has_role(*_STAFF):
        return None, None
    return _key(user.id), (figures[USER_FIGURE], figures.get(SITE_FIGURE))


def _key(user_id: int) -> tuple:
    # The session's CSRF secret is part of the key: the page's forms carry tokens made from it.
    return user_id, session.get(_CSRF), request.full_path


def cached_page(view):
    """Serve this view's page from the store while nothing it shows has changed.

    Only a person who is a learner and nothing more, on a GET without pending messages, is
    served a stored page; a render is kept only when it is a plain 200 HTML page that left the
    session as it found it. The stored page carries the generations it was rendered under (read
    with the session user, before the view reads anything), so a change committed meanwhile
    makes it out of date at once.
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        """The kept page when it is current, else the view's (kept when it may be)."""
        store = page_store()
        key, stamp = _key_and_stamp() if store is not None else (None, None)
        if key is None:
            return view(*args, **kwargs)
        stored = store.get(key, stamp)
        if stored is not None:
            return _serve(stored)
        seconds = current_app.config.get("PAGE_CACHE_SECONDS", 60)
        g.page_render = render = _Render(expires=time.monotonic() + seconds)
        before = dict(session)
        response = current_app.make_response(view(*args, **kwargs))
        if _keepable(response, render, before):
            store.put(
                _key(key[0]),  # the first page of a session makes its CSRF secret
                StoredPage(
                    stamp, response.get_data(), response.content_type, render.expires, render.replay
                ),
            )
        return response

    return wrapper


def _keepable(response, render: _Render, session_before: dict) -> bool:
    return (
        not render.refused
        and render.expires > time.monotonic()
        and response.status_code == 200
        and response.mimetype == "text/html"
        and not response.is_streamed
        and "Set-Cookie" not in response.headers
        and _same_session(session_before)
    )


def _same_session(before: dict) -> bool:
    """Whether the view left the session as it was, but for making its CSRF secret."""
    after = dict(session)
    if _CSRF not in before:
        after.pop(_CSRF, None)
    return after == before


def _serve(stored: StoredPage):
    body = stored.body
    if stored.replay is not None:
        body = stored.replay(body.decode()).encode()
    response = current_app.response_class(body, content_type=stored.content_type)
    response.headers["X-Page-Cache"] = "hit"
    return response
