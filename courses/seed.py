"""Demo courses for ``seed-demo`` (idempotent): three published co-designed courses, one still
in review awaiting Acme's sign-off, and enrolments for the demo learners."""

from __future__ import annotations

import copy

from sqlalchemy import select

from courses.archive import build_course
from courses.archive_validate import check_manifest
from courses.codesign import publish_course, sign_off, submit_for_review
from courses.demo import python_data, quality, warehouse
from courses.demo.chart import control_chart_png
from courses.demo.practice import PYTHON_SLUG, add_practice_module, seed_practice
from lms.domain.models import Course, CourseStatus, Enrolment
from lms.domain.services import enrol_user
from lms.extensions import db
from lms.models import Organization, Role, User
from lms.seed import ensure_membership, get_or_create_user

# A Globex trainer, so that Globex can author and sign off its course like any partner.
GLOBEX_TRAINER = ("trainer@globex.demo", "Kenji Sato")

# (module, manifest attr, summary attr, files, publish?, signers)
COURSES = [
    (python_data, "MANIFEST", "SUMMARY", {}, True),
    (quality, "MANIFEST", "SUMMARY", {"attachments/control-chart.png": control_chart_png}, True),
    (warehouse, "MANIFEST", "SUMMARY", {}, True),
    (warehouse, "LEAN_MANIFEST", "LEAN_SUMMARY", {}, False),
]

# learner email -> [(course slug, method, enrolled by)]
ENROLMENTS = {
    "student@uni.demo": [
        ("python-for-production-data", "self", None),
        ("warehouse-automation-basics", "self", None),
    ],
    "employee@acme.demo": [
        ("python-for-production-data", "trainer", "trainer@acme.demo"),
        ("quality-management-with-statistics", "trainer", "trainer@acme.demo"),
    ],
    "employee2@acme.demo": [
        ("quality-management-with-statistics", "self", None),
        ("warehouse-automation-basics", "self", None),
    ],
}

TRAINERS = {
    "northfield": "trainer@uni.demo",
    "acme": "trainer@acme.demo",
    "globex": GLOBEX_TRAINER[0],
}


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _org(slug: str) -> Organization:
    return db.session.scalar(select(Organization).where(Organization.slug == slug))


def _create(manifest: dict, summary: str, files: dict) -> Course:
    data = {"course.md": summary.encode("utf-8")}
    data.update({path: make() for path, make in files.items()})
    manifest = copy.deepcopy(manifest)
    check_manifest(manifest, data)
    partners = [(_org(p["organization"]), p["role"]) for p in manifest["partners"]]
    author = _user(TRAINERS[manifest["partners"][0]["organization"]])
    return build_course(manifest, data, partners, author, slug=manifest["course"]["slug"])


def seed_courses() -> None:
    """Create the demo courses that do not exist yet, then the enrolments (idempotent)."""
    globex = _org("globex")
    if globex is not None:
        trainer = get_or_create_user(*GLOBEX_TRAINER)
        ensure_membership(trainer, globex, Role.TRAINER)
    created = []
    for module, manifest_attr, summary_attr, files, publish in COURSES:
        manifest = getattr(module, manifest_attr)
        slug = manifest["course"]["slug"]
        if db.session.scalar(select(Course.id).where(Course.slug == slug)) is not None:
            continue
        created.append((_create(manifest, getattr(module, summary_attr), files), manifest, publish))
    # Added after every course is built, so the ids of the other demo courses stay as they were.
    for course, _manifest, _publish in created:
        if course.slug == PYTHON_SLUG:
            add_practice_module(course)
    for course, manifest, publish in created:
        submit_for_review(course)
        for partner in manifest["partners"]:
            org_slug = partner["organization"]
            if not publish and org_slug == "acme":
                continue  # the course in review still waits for Acme
            sign_off(
                course,
                _org(org_slug),
                _user(TRAINERS[org_slug]),
                "Checked the content with our team.",
            )
        if publish:
            publish_course(course)
    for email, rows in ENROLMENTS.items():
        learner = _user(email)
        if learner is None:
            continue
        for slug, method, by in rows:
            course = db.session.scalar(select(Course).where(Course.slug == slug))
            if course is None or course.status != CourseStatus.PUBLISHED:
                continue
            known = db.session.scalar(
                select(Enrolment.id).where(
                    Enrolment.user_id == learner.id, Enrolment.course_id == course.id
                )
            )
            if known is None:  # a learner who left on purpose is not enrolled again
                enrol_user(learner, course, method=method, by=_user(by) if by else None)
    db.session.flush()
    seed_practice()
