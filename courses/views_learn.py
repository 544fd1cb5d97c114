"""The learner's activity page: side navigation, the type's own view, previous / next."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from courses.blueprint import activity_or_404, bp, course_or_404, user
from courses.forms import ConfirmForm
from courses.learning import outline
from lms.extensions import db
from lms.pagecache import cached_page
from lms.plugins import activity_registry
from lms.progress.services import record_activity_event


@bp.route("/<slug>/activities/<int:activity_id>")
@login_required
@cached_page
def activity(slug: str, activity_id: int):
    """Learner's page of one activity with the course outline."""
    course = course_or_404(slug)
    act = activity_or_404(course, activity_id)
    view = outline(course, user())
    if not view.enrolled and not view.staff:
        flash("Enrol in the course to open its activities.", "info")
        return redirect(url_for("courses.overview", slug=slug))
    reasons = view.locks.get(act.id, [])
    atype = activity_registry().get(act.type)
    body = None
    if atype is not None and (view.staff or not reasons):
        body = atype.render(act, user())
    preview = view.staff and (not view.enrolled or request.args.get("preview") == "1")
    if _record_first_view(view, act, atype, locked=bool(reasons), preview=preview):
        view = outline(course, user())  # the new ticks and locks, on the objects still loaded
    prev, nxt = view.neighbours(act)
    # Rendered before the commit: a commit expires every loaded object, and the template would
    # then load the course again, module by module.
    page = render_template(
        "courses/activity.html",
        course=course,
        activity=act,
        atype=atype,
        outline=view,
        body=body,
        reasons=reasons,
        preview=preview,
        prev=prev,
        nxt=nxt,
        confirm=ConfirmForm(),
    )
    db.session.commit()
    return page


def _record_first_view(view, act, atype, *, locked: bool, preview: bool) -> bool:
    """Record the first opening by an enrolled learner as a "viewed" event, whatever the type;
    authors previewing (and learners facing a lock) are not recorded. Later openings write
    nothing: the view is already on record, and a page read by a whole class must not be a
    write. Returns whether it recorded (and flushed) one."""
    state = view.states.get(act.id)
    first_view = state is None or state.viewed_at is None
    if not (view.enrolled and not locked and not preview and atype is not None and first_view):
        return False
    record_activity_event(user(), act, "viewed")
    db.session.flush()
    return True
