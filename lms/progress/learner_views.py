"""My learning and the notifications page."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.extensions import db
from lms.pagecache import cached_page
from lms.pagination import paginate
from lms.progress import queries
from lms.progress.blueprint import bp
from lms.progress.learning import learner_overview
from lms.progress.notices import mark_notifications_read
from lms.timeutil import utcnow
from lms.urls import parse_id


def certificate_links(user_id: int, course_ids: list[int]) -> dict[int, str]:
    """Certificate page URLs per course, from the credentials package when it is installed."""
    provider = current_app.extensions.get("lms.course_certificate_urls")
    return provider(user_id, course_ids) if provider is not None and course_ids else {}


@bp.route("/learning")
@login_required
@cached_page
def my_learning():
    """Learner's "My learning" page: courses in progress, completed and assigned."""
    now = utcnow()
    overview = learner_overview(current_user.id, now)
    certificates = certificate_links(current_user.id, [c.course.id for c in overview.completed])
    return render_template(
        "progress/my_learning.html", overview=overview, certificates=certificates, now=now
    )


@bp.route("/notifications")
@login_required
def notifications():
    """Signed-in user's notification list, newest first."""
    page = paginate(queries.notifications_of(current_user.id), per_page=20)
    return render_template("progress/notifications.html", page=page)


@bp.route("/notifications/read", methods=["POST"])
@login_required
def notifications_read():
    """POST endpoint marking the user's notifications (or chosen ones) read."""
    ids = [i for i in map(parse_id, request.form.getlist("id")) if i is not None]
    count = mark_notifications_read(current_user.id, ids)
    db.session.commit()
    flash(f"Marked {count} notification{'s' if count != 1 else ''} as read.", "success")
    return redirect(url_for("progress.notifications"))
