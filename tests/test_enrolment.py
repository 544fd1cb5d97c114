"""Enrolment: enrol_user in core, self-enrolment with a key, by a trainer, withdrawal."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms import signals
from lms.domain.models import Enrolment
from lms.domain.services import enrol_user
from lms.errors import DomainError
from lms.extensions import db
from tests.courses_factories import make_cluster, make_course, publish


@pytest.fixture
def c(app):
    with app.app_context():
        cluster = make_cluster()
        db.session.commit()
        yield cluster


def test_enrol_user_is_idempotent_reactivates_and_signals(app, c):
    course = publish(c, make_course(c))
    sent = []

    def listener(sender, **kw):
        sent.append((kw["user"].email, kw["method"], kw["enrolment"].status))

    signals.enrolled.connect(listener)
    try:
        first = enrol_user(c.employee, course, method="program", by=c.acme_trainer)
        again = enrol_user(c.employee, course, method="self")
        assert (
            first is again
            and first.method == "program"
            and first.enrolled_by_id == c.acme_trainer.id
        )
        first.status = "withdrawn"
        enrol_user(c.employee, course, method="self")
    finally:
        signals.enrolled.disconnect(listener)
    assert sent == [
        ("employee@acme.demo", "program", "active"),
        ("employee@acme.demo", "self", "active"),
    ]
    assert db.session.scalar(select(func.count(Enrolment.id))) == 1
    with pytest.raises(ValueError):
        enrol_user(c.employee, course, method="magic")
    with pytest.raises(DomainError):
        enrol_user(c.employee, make_course(c, title="Draft"))


def test_self_enrolment_with_key(client, auth, c):
    course = publish(c, make_course(c, enrolment_key="spc-2026"))
    db.session.commit()
    auth.login("student@uni.demo")
    page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert "Enrolment key" in page and "Enrol in this course" in page
    wrong = client.post(
        f"/courses/{course.slug}/enrol", data={"key": "guess"}, follow_redirects=True
    )
    assert "enrolment key is not right" in wrong.get_data(as_text=True)
    assert db.session.scalar(select(Enrolment.id)) is None
    client.post(f"/courses/{course.slug}/enrol", data={"key": "spc-2026"})
    enrolment = db.session.scalar(select(Enrolment))
    assert enrolment.status == "active" and enrolment.method == "self"


def test_partner_only_courses_refuse_other_organizations(client, auth, c):
    course = publish(c, make_course(c))
    db.session.commit()
    auth.login("employee@globex.demo")
    assert client.get(f"/courses/{course.slug}").status_code == 404
    assert client.post(f"/courses/{course.slug}/enrol").status_code == 404
    assert db.session.scalar(select(Enrolment.id)) is None


def test_cluster_courses_are_open_to_everyone(client, auth, c):
    course = publish(c, make_course(c, visibility="cluster"))
    db.session.commit()
    auth.login("employee@globex.demo")
    client.post(f"/courses/{course.slug}/enrol")
    assert db.session.scalar(select(Enrolment.user_id)) == c.globex_learner.id


def test_unenrol_keeps_history_and_reenrol_reactivates(client, auth, c):
    course = publish(c, make_course(c))
    db.session.commit()
    auth.login("student@uni.demo")
    client.post(f"/courses/{course.slug}/enrol")
    client.post(f"/courses/{course.slug}/unenrol")
    enrolment = db.session.scalar(select(Enrolment))
    assert enrolment.status == "withdrawn" and enrolment.withdrawn_at is not None
    client.post(f"/courses/{course.slug}/enrol")
    db.session.expire_all()
    enrolment = db.session.scalar(select(Enrolment))
    assert enrolment.status == "active" and enrolment.withdrawn_at is None
    assert db.session.scalar(select(func.count(Enrolment.id))) == 1


def test_trainer_enrols_by_email(client, auth, c):
    course = publish(c, make_course(c))
    db.session.commit()
    auth.login("trainer@acme.demo")
    url = f"/courses/{course.slug}/enrolments"
    assert client.get(url).status_code == 200
    outsider = client.post(url, data={"email": "employee@globex.demo"})
    assert outsider.status_code == 400 and b"open to partners only" in outsider.data
    unknown = client.post(url, data={"email": "nobody@nowhere.demo"})
    # The same refusal: the form does not tell which addresses have accounts (issue 8).
    assert unknown.status_code == 400 and b"open to partners only" in unknown.data
    assert client.post(url, data={"email": "Employee@Acme.demo"}).status_code == 302
    enrolment = db.session.scalar(select(Enrolment))
    assert enrolment.user_id == c.employee.id and enrolment.method == "trainer"
    assert enrolment.enrolled_by_id == c.acme_trainer.id
    listing = client.get(url).get_data(as_text=True)
    assert "Marco Rossi" in listing and "By a trainer" in listing
    client.post(f"{url}/{enrolment.id}/withdraw")
    db.session.expire_all()
    assert db.session.get(Enrolment, enrolment.id).status == "withdrawn"


def test_learners_cannot_enrol_others(client, auth, c):
    course = publish(c, make_course(c))
    db.session.commit()
    auth.login("student@uni.demo")
    assert client.get(f"/courses/{course.slug}/enrolments").status_code == 403
    assert (
        client.post(
            f"/courses/{course.slug}/enrolments", data={"email": "employee@acme.demo"}
        ).status_code
        == 403
    )
    assert db.session.scalar(select(Enrolment.id)) is None


def test_enrolment_list_filters_and_paginates(client, auth, c):
    from tests.courses_factories import _user

    course = publish(c, make_course(c, visibility="cluster"))
    for i in range(55):
        enrol_user(
            _user(f"learner{i:02d}@acme.demo", f"Learner {i:02d}", [(c.acme, "learner")]), course
        )
    enrol_user(c.student, course).status = "withdrawn"
    db.session.commit()
    auth.login("trainer@uni.demo")
    url = f"/courses/{course.slug}/enrolments"
    first = client.get(url).get_data(as_text=True)
    assert "Showing 1–50 of 56" in first and ">55</span>" in first and ">1</span>" in first
    found = client.get(url + "?q=learner07").get_data(as_text=True)
    assert "learner07@acme.demo" in found and "learner08@acme.demo" not in found
    withdrawn = client.get(url + "?status=withdrawn").get_data(as_text=True)
    assert "Sara Lind" in withdrawn and "Showing 1–1 of 1" in withdrawn
    assert "Nobody matches" in client.get(url + "?q=zzz%25").get_data(as_text=True)
