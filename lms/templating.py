"""Jinja globals and filters shared by every template, and the role-aware navigation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app, request, url_for
from flask_login import current_user

from lms.domain.models import CourseStatus
from lms.markup import render_markdown


@dataclass(frozen=True)
class NavItem:
    """An entry of the main navigation with who sees it."""

    label: str
    endpoint: str
    visible: Callable[[object], bool]
    order: int = 50
    prefix: str = ""  # URL prefix that marks the item current


def register_nav(
    app: Flask,
    label: str,
    endpoint: str,
    visible: Callable[[object], bool],
    order: int = 50,
    prefix: str = "",
) -> None:
    """Add a top-bar link; components call this so core never names their endpoints."""
    app.extensions.setdefault("lms.nav", []).append(
        NavItem(label, endpoint, visible, order, prefix)
    )


def mark_nav_current(app: Flask, label: str, endpoints: set[str]) -> None:
    """Make the top-bar item ``label`` current on ``endpoints`` whatever their URL.

    A plugin's authoring pages live under its own prefix (``/labs/...``, ``/quiz/...``); they
    belong to "Authoring" all the same, and the plugin says so without naming core code.
    """
    app.extensions.setdefault("lms.nav_endpoints", {}).setdefault(label, set()).update(endpoints)


def register_site_admin_tab(app: Flask, endpoint: str, label: str) -> None:
    """Add a tab to the site administration pages (the Jobe keys, LTI platforms)."""
    app.extensions.setdefault("lms.site_admin_tabs", []).append((endpoint, label))


def site_admin_tabs() -> list[tuple[str, str]]:
    """Tabs of the site administration pages."""
    return list(current_app.extensions.get("lms.site_admin_tabs", []))


def nav_items() -> list[dict]:
    """Navigation entries the current user may see, with the current one marked."""
    items = []
    user = current_user
    by_endpoint = current_app.extensions.get("lms.nav_endpoints", {})
    for item in sorted(current_app.extensions.get("lms.nav", []), key=lambda i: i.order):
        if not user.is_authenticated or not item.visible(user):
            continue
        url = url_for(item.endpoint)
        prefix = item.prefix or url
        if request.endpoint in by_endpoint.get(item.label, ()):
            matched = 10_000  # named explicitly: beats any URL prefix
        else:
            matched = len(prefix) if request.path.startswith(prefix) else 0
        items.append({"label": item.label, "url": url, "current": False, "_match": matched})
    # Only the most specific match is the current page (/courses/authoring is not the catalog).
    best = max((i["_match"] for i in items), default=0)
    for i in items:
        i["current"] = best > 0 and i.pop("_match") == best
    return items


def format_datetime(value: datetime | None, fmt: str = "%d %b %Y, %H:%M") -> str:
    """Template filter: date and time, or a dash."""
    return value.strftime(fmt) if value else "—"


def format_date(value: datetime | None) -> str:
    """Template filter: date, or a dash."""
    return value.strftime("%d %b %Y") if value else "—"


def format_number(value, digits: int = 0) -> str:
    """Template filter: number with thousands separators, or a dash."""
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


STATUS_TAGS = {
    # status -> (label, tone)
    "not_started": ("Not started", "neutral"),
    "in_progress": ("In progress", "info"),
    "completed": ("Completed", "success"),
    "failed": ("Failed", "danger"),
    "overdue": ("Overdue", "danger"),
    "expired": ("Expired", "warning"),
    "draft": ("Draft", "neutral"),
    "in_review": ("In review", "warning"),
    "published": ("Published", "success"),
    "archived": ("Archived", "neutral"),
    "pending": ("Pending", "info"),
    "accepted": ("Accepted", "success"),
    "revoked": ("Revoked", "danger"),
    "active": ("Active", "success"),
    "withdrawn": ("Withdrawn", "neutral"),
    "queued": ("Queued", "neutral"),
    "running": ("Running", "info"),
    "wrong_answer": ("Wrong answer", "danger"),
    "compile_error": ("Compile error", "danger"),
    "runtime_error": ("Runtime error", "danger"),
    "time_limit": ("Time limit", "warning"),
    "memory_limit": ("Memory limit", "warning"),
    "output_limit": ("Output limit", "warning"),
    "sandbox_error": ("Sandbox error", "danger"),
    "passed": ("Passed", "success"),
    "valid": ("Valid", "success"),
}


def format_grade(value, digits: int = 1) -> str:
    """A grade (0-100) as people read it: "87.5%", or "—" when there is none."""
    if value is None:
        return "—"
    return f"{format_number(value, digits)}%"


def status_label(status: str | None) -> str:
    """A status in words ("In progress"), the same words the status tags show."""
    return status_tag(status)["label"]


def status_tag(status: str | None) -> dict:
    """Label and tone of the status tag for a state value."""
    label, tone = STATUS_TAGS.get(
        status or "", ((status or "").replace("_", " ").capitalize(), "neutral")
    )
    return {"label": label, "tone": tone}


def option_pairs(items, value_attr: str = "id", text_attr: str = "name") -> list[tuple]:
    """(value, text) pairs of objects, for the ``filter_select`` macro."""
    return [(getattr(i, value_attr), getattr(i, text_attr)) for i in items]


def init_app(app: Flask) -> None:
    """Register template filters, globals and the navigation context."""
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.filters["grade"] = format_grade
    app.jinja_env.filters["option_pairs"] = option_pairs
    app.jinja_env.globals["nav_items"] = nav_items
    app.jinja_env.globals["site_admin_tabs"] = site_admin_tabs
    app.jinja_env.globals["status_tag"] = status_tag
    # Templates compare states against the same members as the code (never string literals).
    app.jinja_env.globals["CourseStatus"] = CourseStatus
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
