"""Co-design: the review page, sign-offs, and the lifecycle draft → in review → published."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import login_required

from courses import codesign, services
from courses.blueprint import bp, course_or_404, flash_error, form_error, user
from courses.forms import ConfirmForm, SignoffForm
from courses.notices import notify_partners
from lms.errors import DomainError
from lms.extensions import db
from lms.forms import options
from lms.models import Organization
from lms.permissions import can, require


def _signoff_form(course) -> SignoffForm:
    form = SignoffForm()
    orgs = codesign.signable_organizations(user(), course)
    overrides = codesign.override_organizations(user(), course)
    current = {r.partner.organization_id for r in codesign.review_state(course) if r.current}
    form.organization_id.choices = options(
        [(o.id, o.name) for o in orgs if o.id not in current]
        + [
            (o.id, f"{o.name} (override as site administrator: give the reason)")
            for o in overrides
            if o.id not in current
        ]
    )
    return form


def _render(course, form, status=200):
    codesign.load_signers(course)
    reviews = codesign.review_state(course)
    return render_template(
        "courses/review.html",
        course=course,
        reviews=reviews,
        form=form,
        confirm=ConfirmForm(),
        roles=services.PARTNER_ROLES,
        missing=[r.partner.organization for r in reviews if r.current is None],
        may_signoff=can(user(), "course.signoff", course),
    ), status


@bp.route("/<slug>/review")
@login_required
def review(slug: str):
    """Partners' review page of a course with sign-off state."""
    course = course_or_404(slug, "course.manage")
    return _render(course, _signoff_form(course))


@bp.post("/<slug>/signoff")
@login_required
def signoff(slug: str):
    """POST endpoint for a partner (or a site admin on its behalf) to sign off a course in review."""
    course = course_or_404(slug, "course.manage")
    require("course.signoff", course)
    form = _signoff_form(course)
    if form.validate_on_submit():
        org = db.session.get(Organization, form.organization_id.data)
        try:
            signoff = codesign.sign_off(course, org, user(), form.comment.data or "")
        except DomainError as exc:
            form_error(form, exc)
        else:
            _announce_signoff(course, org, signoff)
            db.session.commit()
            kind = " as an override" if signoff.is_override else ""
            flash(
                f"Signed off for {org.name}{kind} (content version {course.content_version}).",
                "success",
            )
            return redirect(url_for("courses.review", slug=slug))
    elif not form.organization_id.choices:
        form.form_errors.append("Your organizations have already signed off this version.")
    return _render(course, form, 400)


def _announce_signoff(course, org: Organization, signoff) -> None:
    """Tell the partners who signed off (an override says so) and whether it can be published."""
    missing = codesign.missing_signoffs(course)
    ready = " Every partner has signed: it can be published." if not missing else ""
    what = f"{org.name} signed off “{course.title}”."
    if signoff.is_override:
        what = (
            f"{user().name} (site administrator) signed off “{course.title}” on behalf "
            f"of {org.name} as an override: “{signoff.comment}”."
        )
    notify_partners(course, user(), "course_signoff", what + ready)


def _transition(slug: str, capability: str, action, done: str, notice: str | None = None):
    course = course_or_404(slug, "course.manage")
    require(capability, course)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        action(course)
    except DomainError as exc:
        flash_error(exc)
    else:
        if notice:
            message = notice.format(title=course.title, who=user().name)
            notify_partners(course, user(), f"course_{action.__name__}", message)
        db.session.commit()
        flash(done.format(title=course.title), "success")
    return redirect(url_for("courses.review", slug=slug))


@bp.post("/<slug>/submit")
@login_required
def submit(slug: str):
    """POST endpoint for trainers to submit a draft for partner review."""
    return _transition(
        slug,
        "course.edit",
        codesign.submit_for_review,
        "“{title}” is in review. Each partner now signs off.",
        "{who} asks your organization to review and sign off “{title}”.",
    )


@bp.post("/<slug>/publish")
@login_required
def publish(slug: str):
    """POST endpoint for trainers to publish a signed-off course."""
    return _transition(
        slug,
        "course.edit",
        codesign.publish_course,
        "“{title}” is published: learners can enrol.",
        "“{title}” is published ({who}).",
    )


@bp.post("/<slug>/to-draft")
@login_required
def to_draft(slug: str):
    """POST endpoint for trainers to take a course back to draft."""
    return _transition(slug, "course.edit", codesign.return_to_draft, "“{title}” is back in draft.")


@bp.post("/<slug>/archive")
@login_required
def archive(slug: str):
    """POST endpoint for course managers to archive a published course."""
    return _transition(
        slug,
        "course.manage",
        codesign.archive_course,
        "“{title}” is archived: it left the catalog; history and reports are kept.",
    )
