"""My learning and the notifications page."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select, update

from lms.extensions import db
from lms.pagination import paginate
from lms.progress.blueprint import bp
from lms.progress.learning import learner_overview
from lms.progress.models import Notification
from lms.timeutil import utcnow
from lms.urls import parse_id


def certificate_links(user_id: int, course_ids: list[int]) -> dict[int, str]:
    """Certificate page URLs per course, when the certificates part is installed."""
    if "certificates.show" not in current_app.view_functions or not course_ids:
        return {}
    from lms.credentials import certificates

    codes_for = getattr(certificates, "course_certificate_codes", None)
    if codes_for is None:
        return {}
    return {
        course_id: url_for("certificates.show", code=code)
        for course_id, code in codes_for(user_id, course_ids).items()
    }


def course_url(course) -> str | None:
    """The course page, when the courses component provides one."""
    for endpoint in ("courses.overview", "courses.show"):
        if endpoint in current_app.view_functions:
            return url_for(endpoint, slug=course.slug)
    return None


def activity_url(course, activity) -> str | None:
    """The activity page of the courses component, when installed."""
    if "courses.activity" in current_app.view_functions:
        return url_for("courses.activity", slug=course.slug, activity_id=activity.id)
    return None


def catalog_url() -> str | None:
    for endpoint in ("courses.catalog", "courses.index"):
        if endpoint in current_app.view_functions:
            return url_for(endpoint)
    return None


@bp.app_context_processor
def _link_helpers():
    return {"course_url": course_url, "activity_url": activity_url, "catalog_url": catalog_url}


@bp.route("/learning")
@login_required
def my_learning():
    now = utcnow()
    overview = learner_overview(current_user.id, now)
    certificates = certificate_links(current_user.id, [c.course.id for c in overview.completed])
    return render_template(
        "progress/my_learning.html", overview=overview, certificates=certificates, now=now
    )


@bp.route("/notifications")
@login_required
def notifications():
    stmt = (
        select(Notification)
        .where(Notification.user_id == current_user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    page = paginate(stmt, per_page=20)
    return render_template("progress/notifications.html", page=page)


@bp.route("/notifications/read", methods=["POST"])
@login_required
def notifications_read():
    ids = [i for i in map(parse_id, request.form.getlist("id")) if i is not None]
    stmt = update(Notification).where(
        Notification.user_id == current_user.id, Notification.read_at.is_(None)
    )
    if ids:
        stmt = stmt.where(Notification.id.in_(ids))
    count = db.session.execute(stmt.values(read_at=utcnow())).rowcount
    db.session.commit()
    flash(f"Marked {count} notification{'s' if count != 1 else ''} as read.", "success")
    return redirect(url_for("progress.notifications"))
