"""Links to pages that plugins and components own, asked through the registry, never guessed.

Core pages (My learning, HR, the gradebook, calendars, LTI launches) link to a course, an
activity or the catalog. Those pages belong to whichever component provides them (the course
blueprint in ``courses/``); each :class:`lms.plugins.Component` may answer with an endpoint and
its values. Without one, the link is ``None`` and templates show plain text.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, url_for

from lms.pagination import page_url
from lms.plugins import Component, plugin_stylesheets
from lms.urls import absolute_url

Page = tuple[str, dict[str, Any]]


def _components() -> list[Component]:
    return current_app.extensions.get("lms.components", [])


def _build(page: Page | None, external: bool) -> str | None:
    if page is None:
        return None
    endpoint, values = page
    return absolute_url(endpoint, **values) if external else url_for(endpoint, **values)


def _first(method: str, *args: Any) -> Page | None:
    for component in _components():
        page = getattr(component, method)(*args)
        if page is not None:
            return page
    return None


def course_url(course: Any, external: bool = False) -> str | None:
    """The page of ``course`` (its overview), or ``None`` when no component provides one."""
    return _build(_first("course_page", course), external)


def activity_url(course: Any, activity: Any, external: bool = False) -> str | None:
    """The page of an activity (an object or its id) of ``course``, or ``None``."""
    activity_id = getattr(activity, "id", activity)
    return _build(_first("activity_page", course, activity_id), external)


def catalog_url(external: bool = False) -> str | None:
    """The course catalog, or ``None`` when no component provides one."""
    return _build(_first("catalog_page"), external)


def component_links(place: str) -> list[tuple[str, str]]:
    """(label, url) of the links components add to the core page ``place``."""
    return [
        (label, url_for(endpoint, **values))
        for component in _components()
        for label, endpoint, values in component.page_links(place)
    ]


def init_app(app: Flask) -> None:
    """Offer the link helpers and the plugins' stylesheets to every template."""
    app.jinja_env.globals.update(
        course_url=course_url,
        activity_url=activity_url,
        catalog_url=catalog_url,
        plugin_stylesheets=plugin_stylesheets,
        component_links=component_links,
        page_url=page_url,
    )
