"""Plugs the course blueprint into the core through the ``lms.components`` entry point."""

from __future__ import annotations

from flask import Flask, render_template
from markupsafe import Markup

from courses import (  # noqa: F401  (importing registers the routes)
    views_activities,
    views_archive,
    views_authoring,
    views_catalog,
    views_codesign,
    views_demand,
    views_enrolment,
    views_files,
    views_learn,
    views_outcomes,
)
from courses.blueprint import bp
from courses.catalog import authored_courses
from courses.cli import courses_cli
from courses.codesign import review_state, signable_organizations
from lms.main import register_dashboard_panel
from lms.permissions import can
from lms.plugins import Component
from lms.templating import mark_nav_current, register_nav

# Pages of the course blueprint that learners use; every other one is an authoring page.
LEARNER_ENDPOINTS = {"index", "overview", "activity", "enrol", "unenrol", "file"}
# Authoring pages of the built-in lesson and quiz plugins (the learner's quiz pages are not).
PLUGIN_AUTHORING_ENDPOINTS = {
    "lesson.diff",
    "lesson.restore",
    "lesson.revision",
    "lesson.revisions",
    "quiz.questions",
    "quiz.new_question",
    "quiz.edit_question",
    "quiz.delete_question_view",
    "quiz.results",
    "quiz.release",
}


def _authoring_endpoints(app: Flask) -> set[str]:
    """Endpoints under which the "Authoring" link is the current one."""
    own = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("courses.")
        and rule.endpoint.split(".", 1)[1] not in LEARNER_ENDPOINTS
        and rule.endpoint != "courses.static"
    }
    return own | PLUGIN_AUTHORING_ENDPOINTS


def _authoring_panel(user) -> Markup | None:
    """ "Your courses" for trainers: status and what awaits their organization's sign-off."""
    if not can(user, "course.create"):
        return None
    courses = authored_courses(user)
    rows = []
    for course in courses[:8]:
        mine = {o.id for o in signable_organizations(user, course)}
        awaiting = [
            r.partner.organization
            for r in review_state(course)
            if r.current is None and r.partner.organization_id in mine
        ]
        rows.append((course, awaiting))
    return Markup(render_template("courses/_dashboard_panel.html", rows=rows, total=len(courses)))


class CoursesComponent(Component):
    """The course blueprint: catalog, course and activity pages, authoring, co-design."""

    name = "courses"
    seed_order = 10
    stylesheets = (("courses.static", "courses.css"),)

    def course_page(self, course):
        """The course overview (where a learner enrols and sees the outline)."""
        return "courses.overview", {"slug": course.slug}

    def activity_page(self, course, activity_id: int):
        """The activity page, inside the course's navigation."""
        return "courses.activity", {"slug": course.slug, "activity_id": activity_id}

    def catalog_page(self):
        """The course catalog."""
        return "courses.index", {}

    def page_links(self, place: str):
        """The cluster's skills gap links to the demand no published course covers."""
        if place == "skills.cluster_gap":
            return [("Uncovered demand", "courses.uncovered", {})]
        return []

    def init_app(self, app: Flask) -> None:
        """Register the course blueprint, its views, CLI and dashboard panel."""
        if bp.name not in app.blueprints:
            app.register_blueprint(bp)
        app.cli.add_command(courses_cli)
        register_nav(app, "Catalog", "courses.index", lambda u: True, order=20, prefix="/courses/")
        register_nav(
            app,
            "Authoring",
            "courses.authoring",
            lambda u: can(u, "course.create"),
            order=30,
            prefix="/courses/authoring",
        )
        register_dashboard_panel(app, "courses.authoring", _authoring_panel, order=40)
        mark_nav_current(app, "Authoring", _authoring_endpoints(app))

    def seed_demo(self) -> None:
        """Create the demo courses."""
        # imported here: the demo content is only needed by `lms seed-demo`.
        from courses.seed import seed_courses

        seed_courses()
