"""Completion services through the database: events, courses, overrides, recompute, programs."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms import signals
from lms.domain.services import enrol_user
from lms.errors import DomainError
from lms.extensions import db
from lms.models import OutboundMail
from lms.progress.models import (
    AssignmentReminder,
    CompletionHistory,
    CourseCompletion,
    Notification,
    ProgramAssignment,
)
from lms.progress.programs import (
    ProgramData,
    assign_department,
    assign_program,
    create_program,
)
from lms.progress.recompute import recompute_course
from lms.progress.reminders import expire_and_recertify, send_reminders
from lms.progress.services import (
    override_activity_completion,
    record_activity_event,
    update_course_completion,
)
from lms.timeutil import utcnow
from tests.progress_factories import activities_of, department, make_course, make_org, make_user


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def _listen(signal):
    received = []

    def handler(sender, **kw):
        received.append(kw)

    signal.connect(handler)
    return received, lambda: signal.disconnect(handler)


def test_course_completes_at_once_with_grade_and_signal(ctx):
    course = make_course(
        "stats", [("viewed", None, 0, True), ("passed", 70, 2, True), ("none", None, 0, False)]
    )
    user = make_user()
    enrol_user(user, course, "self")
    done, stop = _listen(signals.course_completed)
    try:
        viewed, quiz, _ = activities_of(course)
        record_activity_event(user, viewed, "viewed")
        cc = db.session.scalar(select(CourseCompletion).where(CourseCompletion.user_id == user.id))
        assert (cc.state, cc.progress) == ("in_progress", 50.0)
        record_activity_event(user, quiz, "graded", grade=60)
        assert cc.state == "failed"  # every counted activity attempted, one below its mark
        assert cc.grade == 60.0
        record_activity_event(user, quiz, "graded", grade=85)
        db.session.refresh(cc)
        assert (cc.state, cc.progress, cc.grade) == ("completed", 100.0, 85.0)
        assert cc.completed_at is not None
        assert len(done) == 1 and done[0]["user"].id == user.id
        # A later, lower grade changes nothing: best grade kept, completion sticky.
        record_activity_event(user, quiz, "graded", grade=10)
        assert len(done) == 1
    finally:
        stop()


def test_failed_when_everything_attempted_below_min_grade(ctx):
    course = make_course("hard", [("passed", 50, 1, True), ("passed", 50, 1, True)], min_grade=80)
    user = make_user()
    enrol_user(user, course, "self")
    failed, stop = _listen(signals.course_failed)
    try:
        a, b = activities_of(course)
        record_activity_event(user, a, "graded", grade=60)
        record_activity_event(user, b, "graded", grade=70)
        cc = update_course_completion(user.id, course.id)
        assert cc.state == "failed"
        assert len(failed) == 1
        record_activity_event(user, b, "graded", grade=100)
        assert update_course_completion(user.id, course.id).state == "completed"
    finally:
        stop()


def test_unknown_event_and_bad_grade_rejected(ctx):
    course = make_course("c1")
    user = make_user()
    (a,) = activities_of(course)
    with pytest.raises(ValueError):
        record_activity_event(user, a, "danced")
    with pytest.raises(ValueError):
        record_activity_event(user, a, "graded", grade=140)


def test_override_needs_reason_and_is_recorded(ctx):
    course = make_course("workshop", [("submitted", None, 1, True)])
    trainer, learner = make_user(), make_user()
    enrol_user(learner, course, "self")
    (a,) = activities_of(course)
    with pytest.raises(DomainError):
        override_activity_completion(learner, a, True, trainer, "  ")
    row = override_activity_completion(learner, a, True, trainer, "Assessed in the workshop")
    assert row.completed and row.overridden_by_id == trainer.id
    assert row.override_reason == "Assessed in the workshop"
    assert update_course_completion(learner.id, course.id).state == "completed"
    # Events do not undo an override; removing it re-applies the rule.
    record_activity_event(learner, a, "viewed")
    assert row.completed
    row = override_activity_completion(learner, a, None, trainer, "")
    assert row.overridden_by_id is None and not row.completed


def test_override_refuses_people_not_enrolled(ctx):
    course = make_course("closed")
    (a,) = activities_of(course)
    with pytest.raises(DomainError):
        override_activity_completion(make_user(), a, True, make_user(), "why not")


def test_recompute_after_rule_change(ctx):
    course = make_course("recompute", [("passed", 90, 1, True), ("viewed", None, 1, True)])
    users = [make_user() for _ in range(3)]
    a, b = activities_of(course)
    for u in users:
        enrol_user(u, course, "self")
        record_activity_event(u, b, "viewed")
    record_activity_event(users[0], a, "graded", grade=80)
    record_activity_event(users[1], a, "graded", grade=95)
    assert update_course_completion(users[0].id, course.id).state == "failed"
    done, stop = _listen(signals.course_completed)
    try:
        a.pass_mark = 75  # the author lowers the pass mark
        db.session.flush()
        result = recompute_course(course)
    finally:
        stop()
    states = dict(
        db.session.execute(
            select(CourseCompletion.user_id, CourseCompletion.state).where(
                CourseCompletion.course_id == course.id
            )
        ).all()
    )
    assert states == {users[0].id: "completed", users[1].id: "completed",
                      users[2].id: "in_progress"}  # fmt: skip
    assert result["completed"] == 1 and [d["user"].id for d in done] == [users[0].id]
    # Running it again changes nothing.
    assert recompute_course(course)["courses_changed"] == 0


def _program(org, courses, hr, **kw):
    data = dict(name="Retraining", purpose="retraining", description="", course_ids=[c.id for c in courses],
                due_mode="relative", due_days=30)  # fmt: skip
    data.update(kw)
    return create_program(org, ProgramData(**data), hr)


def test_program_validation(ctx):
    org = make_org("acme2")
    hr = make_user(org=org, role="hr")
    course = make_course("p-course")
    draft = make_course("p-draft", status="draft")
    today = utcnow().date()
    bad = [
        ({"course_ids": []}, "course_ids"),
        ({"course_ids": [draft.id]}, "course_ids"),
        ({"name": " "}, "name"),
        ({"due_mode": "fixed", "due_date": today - timedelta(days=1)}, "due_date"),
        ({"completion_mode": "n_of", "completion_count": 5}, "completion_count"),
        ({"validity_months": 0}, "validity_months"),
    ]
    for change, field in bad:
        with pytest.raises(DomainError) as err:
            _program(org, [course], hr, **change)
        assert err.value.field == field
    program = _program(org, [course], hr, due_mode="fixed", due_date=today)
    assert program.due_date.date() == today


def test_assign_enrols_notifies_and_is_idempotent(ctx):
    org = make_org("acme3")
    other = make_org("globex3")
    hr = make_user(org=org, role="hr")
    c1, c2 = make_course("p1"), make_course("p2")
    program = _program(org, [c1, c2], hr)
    quality = [make_user(org=org, dept="Quality") for _ in range(3)]
    make_user(org=org, dept="Production")
    outsider = make_user(org=other)
    with pytest.raises(DomainError):
        assign_program(program, [quality[0].id, outsider.id], hr)
    assert db.session.scalar(select(func.count(ProgramAssignment.id))) == 0
    result = assign_department(program, department(org, "Quality"), hr)
    assert (result.created, result.already) == (3, 0)
    again = assign_department(program, department(org, "Quality"), hr)
    assert (again.created, again.already) == (0, 3)
    assert db.session.scalar(select(func.count(Notification.id))) == 3
    assert db.session.scalar(select(func.count(OutboundMail.id))) == 3
    with pytest.raises(DomainError):
        assign_department(program, department(other, "Quality"), hr)


def test_program_completion_sends_signal(ctx):
    org = make_org("acme4")
    hr = make_user(org=org, role="hr")
    c1, c2 = make_course("q1"), make_course("q2")
    program = _program(org, [c1, c2], hr, validity_months=12)
    emp = make_user(org=org, dept="Quality")
    assign_program(program, [emp.id], hr)
    got, stop = _listen(signals.program_completed)
    try:
        record_activity_event(emp, activities_of(c1)[0], "viewed")
        a = db.session.scalar(select(ProgramAssignment))
        assert (a.status, a.progress, a.courses_completed) == ("in_progress", 50.0, 1)
        record_activity_event(emp, activities_of(c2)[0], "viewed")
        db.session.refresh(a)
        assert a.status == "completed" and a.completed_at and a.expires_at
        assert a.expires_at > a.completed_at + timedelta(days=360)
        assert len(got) == 1 and got[0]["assignment"].id == a.id
    finally:
        stop()


def test_n_of_program(ctx):
    org = make_org("acme5")
    hr = make_user(org=org, role="hr")
    courses = [make_course(f"n{i}") for i in range(3)]
    program = _program(org, courses, hr, completion_mode="n_of", completion_count=2)
    emp = make_user(org=org)
    assign_program(program, [emp.id], hr)
    record_activity_event(emp, activities_of(courses[2])[0], "viewed")
    record_activity_event(emp, activities_of(courses[0])[0], "viewed")
    assert db.session.scalar(select(ProgramAssignment.status)) == "completed"


def test_reminders_are_idempotent(ctx):
    org = make_org("acme6")
    hr = make_user(org=org, role="hr")
    program = _program(org, [make_course("r1")], hr, due_days=10)
    soon, late = make_user(org=org), make_user(org=org)
    now = utcnow()
    assign_program(program, [soon.id], hr, now - timedelta(days=5))  # due in 5 days
    assign_program(program, [late.id], hr, now - timedelta(days=20))  # 10 days overdue
    assert send_reminders(now) == 2
    assert send_reminders(now) == 0
    windows = set(db.session.scalars(select(AssignmentReminder.window)))
    assert windows == {"due-7d", "overdue-w2"}
    # A week later the overdue one is reminded again, the other is now overdue too.
    assert send_reminders(now + timedelta(days=7)) == 2
    kinds = set(db.session.scalars(select(Notification.kind)))
    assert {"program_due_soon", "program_overdue"} <= kinds


def test_recertification_after_validity(ctx):
    org = make_org("acme7")
    hr = make_user(org=org, role="hr")
    course = make_course("cert")
    program = _program(org, [course], hr, validity_months=12)
    emp = make_user(org=org)
    assign_program(program, [emp.id], hr)
    record_activity_event(emp, activities_of(course)[0], "viewed")
    first = db.session.scalar(select(ProgramAssignment))
    assert first.status == "completed"
    assert expire_and_recertify(utcnow()) == 0
    assert expire_and_recertify(first.expires_at + timedelta(days=1)) == 1
    rows = db.session.scalars(select(ProgramAssignment).order_by(ProgramAssignment.cycle)).all()
    assert [(r.cycle, r.status) for r in rows] == [(1, "expired"), (2, "assigned")]
    assert db.session.scalar(select(CourseCompletion.state)) == "not_started"
    assert db.session.scalar(select(func.count(CompletionHistory.id))) == 1
    # Nothing more to do on a second run.
    assert expire_and_recertify(first.expires_at + timedelta(days=1)) == 0


def test_update_program_moves_due_dates_and_enrols_in_new_courses(ctx):
    from dataclasses import replace

    from lms.domain.models import Enrolment
    from lms.progress.programs import update_program

    org = make_org("acme8")
    hr = make_user(org=org, role="hr")
    c1, c2 = make_course("u1"), make_course("u2")
    today = utcnow().date()
    data = ProgramData("Upd", "upskilling", "", [c1.id], due_mode="fixed",
                       due_date=today + timedelta(days=3))  # fmt: skip
    program = create_program(org, data, hr)
    emp = make_user(org=org)
    assign_program(program, [emp.id], hr)
    later = today + timedelta(days=40)
    update_program(program, replace(data, course_ids=[c1.id, c2.id], due_date=later))
    a = db.session.scalar(select(ProgramAssignment))
    assert a.due_at.date() == later
    enrolled = set(
        db.session.scalars(select(Enrolment.course_id).where(Enrolment.user_id == emp.id))
    )
    assert enrolled == {c1.id, c2.id}
    # A past due date that is not changed does not block editing other fields.
    program.due_date = program.due_date - timedelta(days=60)
    db.session.flush()
    kept = replace(data, name="Renamed", course_ids=[c1.id, c2.id],
                   due_date=program.due_date.date())  # fmt: skip
    assert update_program(program, kept).name == "Renamed"


def test_rule_change_recomputes_on_commit(ctx):
    course = make_course("auto", [("passed", 90, 1, True)])
    user = make_user()
    enrol_user(user, course, "self")
    (quiz,) = activities_of(course)
    record_activity_event(user, quiz, "graded", grade=80)
    db.session.commit()
    assert update_course_completion(user.id, course.id).state == "failed"
    quiz.pass_mark = 70  # an author edits the rule through any path...
    db.session.commit()  # ...and the completion follows in the same transaction
    state = db.session.scalar(
        select(CourseCompletion.state).where(CourseCompletion.user_id == user.id)
    )
    assert state == "completed"
    course.completion_min_grade = 95  # stricter later: the earned completion is kept
    db.session.commit()
    assert db.session.scalar(select(CourseCompletion.state)) == "completed"


def test_auto_recompute_can_be_switched_off(ctx):
    ctx.config["PROGRESS_AUTO_RECOMPUTE"] = False
    course = make_course("manual", [("passed", 90, 1, True)])
    user = make_user()
    enrol_user(user, course, "self")
    (quiz,) = activities_of(course)
    record_activity_event(user, quiz, "graded", grade=80)
    quiz.pass_mark = 70
    db.session.commit()
    assert db.session.scalar(select(CourseCompletion.state)) == "failed"


def test_recompute_dates_completions_by_the_one_rule(ctx):
    """A rule change keeps every recorded completion date; what it newly completes is dated when
    the learner did the work, exactly as the live event would have dated it."""
    from datetime import timedelta

    from lms.progress.models import ActivityCompletion

    course = make_course("dates", [("passed", 90, 1, True), ("viewed", None, 1, True)])
    early, late = make_user(), make_user()
    a, b = activities_of(course)
    for u in (early, late):
        enrol_user(u, course, "self")
        record_activity_event(u, b, "viewed")
    record_activity_event(early, a, "graded", grade=95)  # completes the course now
    record_activity_event(late, a, "graded", grade=80)  # fails under 90
    week_ago = utcnow() - timedelta(days=7)
    # Move the recorded facts a week back, as if the recompute ran a week after the work.
    for row in db.session.scalars(select(ActivityCompletion)):
        row.viewed_at = week_ago
        if row.submitted_at:
            row.submitted_at = week_ago
        if row.completed:
            row.completed_at = week_ago
    for cc in db.session.scalars(select(CourseCompletion)):
        if cc.state == "completed":
            cc.completed_at = week_ago
    db.session.flush()

    a.pass_mark = 75  # the author lowers the pass mark a week later
    db.session.flush()
    recompute_course(course)
    db.session.expire_all()

    done = {
        cc.user_id: cc
        for cc in db.session.scalars(
            select(CourseCompletion).where(CourseCompletion.course_id == course.id)
        )
    }
    # The early learner's course completion (certificate, ledger) keeps its original date.
    assert done[early.id].state == "completed" and done[early.id].completed_at == week_ago
    # The late learner's grade now passes: dated at their submission, not at the recompute.
    graded = db.session.scalar(
        select(ActivityCompletion).where(
            ActivityCompletion.user_id == late.id, ActivityCompletion.activity_id == a.id
        )
    )
    assert graded.completed and graded.completed_at == week_ago
