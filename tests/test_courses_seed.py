"""The demo courses: published co-designed courses with real content, one awaiting Acme."""

from __future__ import annotations

from sqlalchemy import func, select

from courses import codesign
from courses.seed import seed_courses
from lms.domain.models import Activity, Course, CourseSignoff, Enrolment
from lms.extensions import db
from lms.seed import seed_core


def test_demo_courses_are_seeded_idempotently(app):
    with app.app_context():
        seed_core()
        seed_courses()
        db.session.commit()
        counts = [
            db.session.scalar(select(func.count(m.id)))
            for m in (Course, Activity, CourseSignoff, Enrolment)
        ]
        seed_courses()
        db.session.commit()
        assert [
            db.session.scalar(select(func.count(m.id)))
            for m in (Course, Activity, CourseSignoff, Enrolment)
        ] == counts
        courses = {c.slug: c for c in db.session.scalars(select(Course))}
        expected = {
            "python-for-production-data": {"northfield", "acme"},
            "quality-management-with-statistics": {"northfield", "acme"},
            "warehouse-automation-basics": {"northfield", "globex"},
        }
        for slug, orgs in expected.items():
            course = courses[slug]
            assert course.status == "published"
            assert {p.organization.slug for p in course.partners} == orgs
            assert codesign.missing_signoffs(course) == []
            types = {a.type for m in course.modules for a in m.activities}
            assert {"lesson", "quiz"} <= types
            bodies = [a.body for m in course.modules for a in m.activities if a.type == "lesson"]
            assert all(len(b) > 400 and "lorem" not in b.lower() for b in bodies)
        review = courses["lean-manufacturing-shop-floor"]
        assert review.status == "in_review"
        assert [o.slug for o in codesign.missing_signoffs(review)] == ["acme"]
        enrolled = set(
            db.session.execute(
                select(Enrolment.user_id, Enrolment.course_id).where(Enrolment.status == "active")
            ).all()
        )
        assert len(enrolled) >= 6
