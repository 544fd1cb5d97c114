"""Recording learning events together (a batch of graded labs) is recording them one by one."""

import pytest
from sqlalchemy import func, select

from lms import signals
from lms.domain.services import enrol_user
from lms.extensions import db
from lms.progress.models import ActivityCompletion, CourseCompletion
from lms.progress.services import ActivityEvent, record_activity_event, record_activity_events
from lms.xapi.models import XapiStatement
from tests.progress_factories import activities_of, make_course, make_user

SHAPE = [("viewed", None, 0, True), ("passed", 70, 2, True)]


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def _heard(*names):
    heard = []
    handlers = []
    for name in names:
        signal = getattr(signals, name)

        def handler(sender, _name=name, **kw):
            heard.append((_name, kw["user"].email.split("@")[0]))

        signal.connect(handler)
        handlers.append((signal, handler))
    return heard, lambda: [signal.disconnect(h) for signal, h in handlers]


def _state(course, users):
    """What recording left: each learner's activity rows, course row and xAPI statements."""
    rows = []
    for user in users:
        acs = db.session.scalars(
            select(ActivityCompletion)
            .where(ActivityCompletion.user_id == user.id, ActivityCompletion.course_id == course.id)
            .order_by(ActivityCompletion.activity_id)
        )
        cc = db.session.scalar(
            select(CourseCompletion).where(
                CourseCompletion.user_id == user.id, CourseCompletion.course_id == course.id
            )
        )
        statements = db.session.scalar(
            select(func.count(XapiStatement.id)).where(XapiStatement.user_id == user.id)
        )
        rows.append(
            (
                [(a.attempts, a.grade, a.completed, a.failed) for a in acs],
                (cc.state, cc.progress, cc.grade),
                statements,
            )
        )
    return rows


def _learners(course, prefix):
    users = [make_user(email=f"{prefix}{i}@uni.test") for i in range(3)]
    for user in users:
        enrol_user(user, course, "self")
    return users


def test_a_batch_leaves_what_recording_one_by_one_leaves(ctx):
    """Several learners, one of them twice, one finishing the course: the same rows, course
    outcomes, xAPI statements and signals as one event at a time."""
    course_a, course_b = make_course("batch-a", SHAPE), make_course("batch-b", SHAPE)
    alone, together = _learners(course_a, "one"), _learners(course_b, "all")

    def plan(users, course):
        viewed, lab = activities_of(course)
        return [
            ActivityEvent(users[0], viewed, "viewed"),
            ActivityEvent(users[0], lab, "graded", grade=90),
            ActivityEvent(users[1], lab, "graded", grade=40),
            ActivityEvent(users[1], lab, "graded", grade=80),
            ActivityEvent(users[2], lab, "submitted"),
        ]

    heard_alone, stop = _heard("activity_event", "activity_completed", "course_completed")
    try:
        for e in plan(alone, course_a):
            record_activity_event(e.user, e.activity, e.event, e.grade)
    finally:
        stop()
    heard_together, stop = _heard("activity_event", "activity_completed", "course_completed")
    try:
        rows = record_activity_events(plan(together, course_b))
    finally:
        stop()
    db.session.commit()
    assert _state(course_a, alone) == _state(course_b, together)
    # The same signals; a batch sends every event's first, then the courses' outcomes.
    assert sorted((n, who.replace("one", "")) for n, who in heard_alone) == sorted(
        (n, who.replace("all", "")) for n, who in heard_together
    )
    assert heard_together[-1] == ("course_completed", "all0")
    assert [r.user_id for r in rows] == [together[i].id for i in (0, 0, 1, 1, 2)]
    assert rows[2] is rows[3] and rows[3].attempts == 2 and rows[3].grade == 80


def test_a_bad_event_in_a_batch_records_nothing(ctx):
    course = make_course("batch-bad", SHAPE)
    (user,) = _learners(course, "bad")[:1]
    viewed, lab = activities_of(course)
    with pytest.raises(ValueError):
        record_activity_events(
            [ActivityEvent(user, viewed, "viewed"), ActivityEvent(user, lab, "graded", grade=101)]
        )
    assert db.session.scalar(select(func.count(ActivityCompletion.id))) == 0
