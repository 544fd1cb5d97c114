"""Catalog, course overview and the authoring list."""

from __future__ import annotations

from flask import render_template, request
from flask_login import login_required

from courses import catalog
from courses.blueprint import bp, course_or_404, user
from courses.codesign import review_state
from courses.enrolment import pending_invitation
from courses.forms import ConfirmForm, EnrolForm
from courses.learning import outline
from courses.services import LANGUAGES, PARTNER_ROLES
from lms.domain.models import LEVELS
from lms.pagecache import cached_page
from lms.pagination import paginate
from lms.permissions import can, require


@bp.route("/")
@login_required
@cached_page
def index():
    """Course catalog every signed-in user browses, searched and filtered."""
    filters = catalog.CatalogFilters(
        q=request.args.get("q", "").strip()[:200],
        skill=request.args.get("skill", "").strip()[:80],
        org=request.args.get("org", "").strip()[:80],
        level=request.args.get("level", "") if request.args.get("level") in LEVELS else "",
        language=request.args.get("language", "").strip()[:10],
    )
    page = paginate(catalog.catalog_query(user(), filters), per_page=12)
    enrolled = catalog.enrolled_course_ids(user(), [c.id for c in page.items])
    return render_template(
        "courses/catalog.html",
        page=page,
        filters=filters,
        choices=catalog.filter_choices(),
        levels=LEVELS,
        languages=LANGUAGES,
        enrolled=enrolled,
        roles=PARTNER_ROLES,
    )


@bp.route("/authoring")
@login_required
def authoring():
    """Trainer's list of the courses they author with their review state."""
    require("course.create")
    courses = catalog.authored_courses(user())
    reviews = {c.id: review_state(c) for c in courses}
    return render_template(
        "courses/authoring.html", courses=courses, reviews=reviews, confirm=ConfirmForm()
    )


@bp.route("/<slug>")
@login_required
@cached_page
def overview(slug: str):
    """Course overview page for learners and staff."""
    course = course_or_404(slug)
    view = outline(course, user())
    preview = request.args.get("preview") == "1" and view.staff
    return render_template(
        "courses/overview.html",
        course=course,
        outline=view,
        preview=preview,
        enrol_form=EnrolForm(),
        confirm=ConfirmForm(),
        may_enrol=can(user(), "course.enrol", course),
        invitation=None if view.enrolled else pending_invitation(user(), course),
        outcomes=catalog.course_outcomes(course),
        roles=PARTNER_ROLES,
        languages=LANGUAGES,
    )
