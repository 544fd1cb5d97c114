"""The co-design workflow through the pages: review, sign-off per partner, publish."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from courses import codesign
from lms.domain.models import Course, CourseSignoff
from lms.extensions import db
from tests.courses_factories import make_cluster, make_course


@pytest.fixture
def c(app):
    with app.app_context():
        cluster = make_cluster()
        db.session.commit()
        yield cluster


def _course(c) -> Course:
    course = make_course(c)
    db.session.commit()
    return course


def test_full_codesign_cycle_through_the_pages(client, auth, c):
    course = _course(c)
    slug = course.slug
    auth.login("trainer@uni.demo")
    assert client.post(f"/courses/{slug}/submit").status_code == 302
    review = client.get(f"/courses/{slug}/review").get_data(as_text=True)
    assert (
        "In review" in review
        and "Awaiting" in review
        and "Sign off for Northfield University" in review
    )
    response = client.post(
        f"/courses/{slug}/signoff",
        data={"organization_id": c.northfield.id, "comment": "Syllabus matches module STAT-201"},
    )
    assert response.status_code == 302
    refused = client.post(f"/courses/{slug}/publish", follow_redirects=True).get_data(as_text=True)
    assert "Still missing: Acme Manufacturing" in refused
    assert db.session.get(Course, course.id).status == "in_review"
    # Northfield's trainer cannot sign for Acme.
    forged = client.post(f"/courses/{slug}/signoff", data={"organization_id": c.acme.id})
    assert forged.status_code == 400
    auth.logout()
    auth.login("trainer@acme.demo")
    client.post(f"/courses/{slug}/signoff", data={"organization_id": c.acme.id, "comment": "OK"})
    published = client.post(f"/courses/{slug}/publish", follow_redirects=True).get_data(
        as_text=True
    )
    assert "is published" in published
    db.session.expire_all()
    course = db.session.get(Course, course.id)
    assert course.status == "published"
    signoffs = db.session.scalars(select(CourseSignoff).order_by(CourseSignoff.id)).all()
    assert [(s.organization_id, s.user_id, s.content_version) for s in signoffs] == [
        (c.northfield.id, c.uni_trainer.id, course.content_version),
        (c.acme.id, c.acme_trainer.id, course.content_version),
    ]
    review = client.get(f"/courses/{slug}/review").get_data(as_text=True)
    assert "Syllabus matches module STAT-201" in review and "Priya Raman" in review


def test_review_page_hidden_from_non_partners(client, auth, c):
    course = _course(c)
    auth.login("trainer@globex.demo")
    assert client.get(f"/courses/{course.slug}/review").status_code == 404
    assert (
        client.post(
            f"/courses/{course.slug}/signoff", data={"organization_id": c.globex.id}
        ).status_code
        == 404
    )
    assert client.post(f"/courses/{course.slug}/publish").status_code == 404
    assert db.session.scalar(select(CourseSignoff.id)) is None


def test_signed_twice_is_refused(client, auth, c):
    course = _course(c)
    auth.login("trainer@uni.demo")
    client.post(f"/courses/{course.slug}/signoff", data={"organization_id": c.northfield.id})
    again = client.post(
        f"/courses/{course.slug}/signoff", data={"organization_id": c.northfield.id}
    )
    assert again.status_code == 400
    assert len(db.session.scalars(select(CourseSignoff)).all()) == 1


def test_edit_through_a_plugin_page_withdraws_signoffs(client, auth, c):
    course = _course(c)
    codesign.sign_off(course, c.acme, c.acme_trainer)
    db.session.commit()
    version = course.content_version
    lesson = course.modules[0].activities[0]
    auth.login("trainer@uni.demo")
    client.post(
        f"/courses/{course.slug}/activities/{lesson.id}/edit",
        data={"title": lesson.title, "completion_rule": "viewed", "weight": "1", "required": "y",
              "type-body": "A corrected body"},
    )  # fmt: skip
    db.session.expire_all()
    course = db.session.get(Course, course.id)
    assert course.content_version > version
    assert codesign.review_state(course)[1].state == "withdrawn"


def test_archive_and_back_to_draft(client, auth, c):
    from tests.courses_factories import publish

    course = publish(c, make_course(c))
    db.session.commit()
    auth.login("trainer@uni.demo")
    client.post(f"/courses/{course.slug}/archive")
    db.session.expire_all()
    assert db.session.get(Course, course.id).status == "archived"
    # Archived courses can no longer be edited, only exported.
    assert client.get(f"/courses/{course.slug}/edit").status_code == 403
    assert client.get(f"/courses/{course.slug}/export").status_code == 200
    other = make_course(c, title="Second")
    codesign.submit_for_review(other)
    db.session.commit()
    client.post(f"/courses/{other.slug}/to-draft")
    db.session.expire_all()
    assert db.session.get(Course, other.id).status == "draft"


def test_partner_teams_are_notified(client, auth, c):
    from lms.progress.models import Notification

    course = _course(c)
    auth.login("trainer@uni.demo")
    client.post(f"/courses/{course.slug}/submit")
    notes = db.session.scalars(select(Notification).order_by(Notification.user_id)).all()
    assert {n.user_id for n in notes} == {c.acme_trainer.id, c.acme_admin.id}
    assert "asks your organization to review and sign off" in notes[0].message
    assert notes[0].link == f"/courses/{course.slug}/review"
    auth.logout()
    auth.login("trainer@acme.demo")
    client.post(f"/courses/{course.slug}/signoff", data={"organization_id": c.acme.id})
    to_uni = db.session.scalars(
        select(Notification).where(Notification.user_id == c.uni_trainer.id)
    ).all()
    assert [n.message for n in to_uni] == [f"Acme Manufacturing signed off “{course.title}”."]
