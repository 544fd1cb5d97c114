"""Calendar pages: the month grid, the agenda, and the private iCalendar feed."""

from __future__ import annotations

import calendar as cal
from datetime import datetime, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from lms.calendar import ical, services
from lms.extensions import db
from lms.timeutil import utcnow
from lms.urls import absolute_url

bp = Blueprint("calendar", __name__, url_prefix="/calendar")

AGENDA_DAYS = 90
FEED_PAST_DAYS = 30
FEED_FUTURE_DAYS = 400


class FeedForm(FlaskForm):
    """CSRF only."""


def _month(raw: str | None, today: datetime) -> tuple[int, int]:
    try:
        year, month = (int(p) for p in (raw or "").split("-", 1))
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return year, month
    except ValueError:
        pass
    return today.year, today.month


def _page(new_token: str | None = None, status: int = 200):
    now = utcnow()
    view = "agenda" if request.args.get("view") == "agenda" else "month"
    year, month = _month(request.args.get("month"), now)
    if view == "agenda":
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        events = services.events_for(current_user, start, start + timedelta(days=AGENDA_DAYS))
        weeks, by_day = [], {}
    else:
        weeks = cal.Calendar(firstweekday=0).monthdatescalendar(year, month)
        start = datetime.combine(weeks[0][0], datetime.min.time())
        end = datetime.combine(weeks[-1][-1], datetime.min.time()) + timedelta(days=1)
        events = services.events_for(current_user, start, end)
        by_day = {}
        for e in events:
            by_day.setdefault(e.at.date(), []).append(e)
    prev_m = (year - (month == 1), 12 if month == 1 else month - 1)
    next_m = (year + (month == 12), 1 if month == 12 else month + 1)
    # The address calendar apps subscribe to: the public one (SITE_URL), not the request host.
    feed_url = absolute_url("calendar.feed", token=new_token) if new_token else None
    return render_template(
        "calendar/index.html", view=view, year=year, month=month, weeks=weeks, by_day=by_day,
        events=events, month_name=cal.month_name[month], today=now.date(),
        prev_month=f"{prev_m[0]}-{prev_m[1]:02d}", next_month=f"{next_m[0]}-{next_m[1]:02d}",
        feed=services.feed_of(current_user), feed_url=feed_url, form=FeedForm(),
        agenda_days=AGENDA_DAYS,
    ), status  # fmt: skip


@bp.get("")
@login_required
def index():
    """Due dates of the user's courses and programs, as a month grid or an agenda."""
    return _page()


@bp.post("/feed")
@login_required
def new_feed():
    """Create (or replace) the private feed URL; it is shown once, on this response."""
    if not FeedForm().validate_on_submit():
        abort(400)
    token = services.new_feed_token(current_user)
    db.session.commit()
    return _page(new_token=token)


@bp.post("/feed/revoke")
@login_required
def revoke_feed():
    """Stop the private feed."""
    if not FeedForm().validate_on_submit():
        abort(400)
    services.revoke_feed(current_user)
    db.session.commit()
    flash("Your calendar feed address no longer works. Calendars subscribed to it stop updating.",
          "success")  # fmt: skip
    return redirect(url_for("calendar.index"))


@bp.get("/feed/<token>.ics")
def feed(token: str):
    """The iCalendar feed behind a secret URL (no login: calendar apps cannot log in)."""
    user = services.user_for_token(token)
    if user is None:
        abort(404)
    now = utcnow()
    events = services.events_for(
        user, now - timedelta(days=FEED_PAST_DAYS), now + timedelta(days=FEED_FUTURE_DAYS),
        external=True,
    )  # fmt: skip
    body = ical.calendar(f"EduCluster: {user.name}", events, now)
    db.session.commit()  # last_used_at
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": 'inline; filename="educluster.ics"',
                 "Cache-Control": "private, max-age=300", "Referrer-Policy": "no-referrer"},
    )  # fmt: skip
