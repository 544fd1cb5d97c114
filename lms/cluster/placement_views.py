"""Placement pages: find and filter, publish, one placement (apply; applications, decisions,
mentor evaluations and outcome for the enterprise; the student's university trainers follow)."""

from __future__ import annotations

import re
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.cluster import placements as svc
from lms.cluster import queries
from lms.cluster.models import (
    PLACEMENT_KIND_LABELS,
    Placement,
    PlacementApplication,
    PlacementOutcome,
)
from lms.cluster.views import bp
from lms.errors import DomainError, InvalidFields
from lms.extensions import db
from lms.models import Organization, OrgKind, Role
from lms.permissions import can, organizations_where
from lms.timeutil import utcnow

_DIGITS = re.compile(r"[0-9]{1,9}")  # ASCII digits only: "²".isdigit() is true, int("²") fails


def _date(name: str) -> date | None:
    raw = (request.values.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise DomainError("Write dates as YYYY-MM-DD.", name) from None


def _int(name: str) -> int | None:
    raw = (request.values.get(name) or "").strip()
    if not raw:
        return None
    if not _DIGITS.fullmatch(raw):
        raise DomainError("Choose a value from the list.", name)
    return int(raw)


def _publishers(user) -> list[Organization]:
    return [
        o for o in organizations_where(user, "org.manage_placements")
        if o.kind in (OrgKind.ENTERPRISE, OrgKind.RESEARCH)
    ]  # fmt: skip


@bp.get("/placements")
@login_required
def placements():
    """Published placements, filtered by skill, start date and partner."""
    error = None
    try:
        filters = svc.PlacementFilters(_int("skill"), _date("from"), _int("partner"))
    except DomainError as exc:
        error, filters = exc.message, svc.PlacementFilters()
    today = utcnow().date()
    return render_template(
        "cluster/placements.html",
        placements=svc.find_placements(filters, today),
        filters=filters,
        error=error,
        skills=queries.skill_choices(),
        partners=queries.host_partners(),
        publishers=_publishers(current_user),
        kinds=PLACEMENT_KIND_LABELS,
        followed=svc.student_applications(current_user.organization_ids(Role.TRAINER)),
        mine=queries.applications_of_user(current_user.id),
    ), (400 if error else 200)


@bp.route("/placements/new", methods=["GET", "POST"])
@login_required
def placement_new():
    """Publish a placement for one of the user's enterprises."""
    publishers = _publishers(current_user)
    org = _publisher(publishers)
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        try:
            placement = svc.publish_placement(org, _placement_data(), current_user, utcnow())
            db.session.commit()
            flash("Placement published.", "success")
            return redirect(url_for(".placement", placement_id=placement.id))
        except InvalidFields as exc:
            db.session.rollback()
            errors = {e.field or "title": e.message for e in reversed(exc.errors)}
        except DomainError as exc:
            db.session.rollback()
            errors = {exc.field or "title": exc.message}
    mentors = queries.mentor_choices(org.id)
    return render_template(
        "cluster/placement_form.html", org=org, publishers=publishers, errors=errors, form=form,
        kinds=PLACEMENT_KIND_LABELS, skills=queries.skill_choices(), mentors=mentors,
    ), (400 if errors else 200)  # fmt: skip


def _publisher(publishers: list) -> Organization:
    """The enterprise chosen in ``?org=`` (default: the first the user may publish for); 403
    when the user publishes for none, or names one they may not publish for."""
    if not publishers:
        abort(403)
    org_id = _int_or_none(request.values.get("org")) or publishers[0].id
    org = next((o for o in publishers if o.id == org_id), None)
    if org is None:
        abort(403)
    return org


def _placement_data() -> svc.PlacementData:
    """The posted placement form as the service's data (checked there)."""
    form = request.form
    return svc.PlacementData(
        title=form.get("title", ""), kind=form.get("kind", ""),
        description=form.get("description", ""), location=form.get("location", ""),
        remote=form.get("remote") == "y", starts_on=_date("starts_on"),
        ends_on=_date("ends_on"), seats=_int("seats"), mentor_id=_int("mentor_id"),
        skills=_skills_from_form(),
    )  # fmt: skip


def _int_or_none(raw: str | None) -> int | None:
    return int(raw) if raw and _DIGITS.fullmatch(raw) else None


def _skills_from_form() -> list[tuple[int, int]]:
    pairs = []
    for n in range(3):
        skill_id = _int(f"skill_{n}")
        if skill_id is None:
            continue
        level = _int(f"level_{n}")
        if level is None:
            raise DomainError("Choose a level for each skill.", "skills")
        pairs.append((skill_id, level))
    return pairs


def _placement_or_404(placement_id: int) -> Placement:
    placement = db.session.get(Placement, placement_id)
    if placement is None:
        abort(404)
    return placement


def _may_manage(placement: Placement) -> bool:
    return can(current_user, "org.manage_placements", placement.organization_id) or (
        placement.mentor_id == current_user.id
    )


@bp.get("/placements/<int:placement_id>")
@login_required
def placement(placement_id: int):
    """One placement: details and (as fits the viewer) apply, applications, evaluations."""
    placement = _placement_or_404(placement_id)
    manage = _may_manage(placement)
    applications = queries.visible_applications(
        placement.id, manage, current_user.id, current_user.organization_ids(Role.TRAINER)
    )
    evaluations = queries.evaluations_by_application([a.id for a in applications])
    mine = next((a for a in applications if a.user_id == current_user.id), None)
    return render_template(
        "cluster/placement.html",
        placement=placement,
        applications=applications,
        evaluations=evaluations,
        manage=manage,
        mine=mine,
        can_apply=svc.student_organization(current_user) is not None and mine is None,
        outcomes=PlacementOutcome,
    )


@bp.post("/placements/<int:placement_id>/apply")
@login_required
def placement_apply(placement_id: int):
    """Apply with a motivation; the skill profile goes with it."""
    placement = _placement_or_404(placement_id)
    try:
        svc.apply_to_placement(
            placement, current_user, request.form.get("motivation", ""), utcnow()
        )
        db.session.commit()
        flash("Application sent. The enterprise will answer here and by notification.", "success")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for(".placement", placement_id=placement.id))


def _application_or_404(application_id: int) -> PlacementApplication:
    application = db.session.get(PlacementApplication, application_id)
    if application is None or not _may_manage(application.placement):
        abort(404)
    return application


@bp.post("/applications/<int:application_id>/decide")
@login_required
def application_decide(application_id: int):
    """Shortlist, accept or decline an application."""
    return _on_application(
        application_id,
        lambda application: svc.decide_application(
            application,
            request.form.get("action", ""),
            request.form.get("message", ""),
            current_user,
            utcnow(),
        ),  # fmt: skip
        "Decision saved and sent to the student.",
    )


@bp.post("/applications/<int:application_id>/evaluate")
@login_required
def application_evaluate(application_id: int):
    """The mentor records an evaluation of one skill."""
    return _on_application(
        application_id,
        lambda application: svc.evaluate_placement_skill(
            application,
            _int("skill_id") or 0,
            _int("level") or 0,
            request.form.get("comment", ""),
            current_user,
            utcnow(),
        ),  # fmt: skip
        "Evaluation recorded on the student's skill profile.",
    )


@bp.post("/applications/<int:application_id>/outcome")
@login_required
def application_outcome(application_id: int):
    """Record the outcome: completed or not, hired or not."""
    return _on_application(
        application_id,
        lambda application: svc.record_outcome(
            application, request.form.get("outcome", ""), request.form.get("hired") == "y", utcnow()
        ),
        "Outcome recorded.",
    )


def _on_application(application_id: int, act, done: str):
    """Run one step on an application its placement's managers may act on (404 for others),
    commit, and go back to the placement with the result or the reason it was refused."""
    application = _application_or_404(application_id)
    placement_id = application.placement_id
    try:
        act(application)
        db.session.commit()
        flash(done, "success")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for(".placement", placement_id=placement_id))
