"""A class submitting at once: workers claim, grade and store lab submissions in batches."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.progress.models import ActivityCompletion
from lms.xapi.models import XapiStatement
from tests.factories import make_lab_class, make_user
from virtual_labs import executors, jobs, submission_queue, tasks
from virtual_labs.models import LabSubmission

RIGHT = {"main.py": "a, b = map(int, input().split())\nprint(a + b)\n"}
ACCEPTED = {"verdict": "accepted", "score": 100.0, "tests": [], "compile_output": ""}


@pytest.fixture
def klass(app):
    """A lab, three enrolled learners and one person who is not enrolled."""
    with app.app_context():
        org, lab, learners = make_lab_class()
        outsider = make_user(org=org)
        db.session.commit()
        return SimpleNamespace(
            lab_id=lab.id, learner_ids=[u.id for u in learners], outsider_id=outsider.id
        )


def _submit(klass, user_id, kind="submit") -> int:
    sub = LabSubmission(lab_id=klass.lab_id, user_id=user_id, files=RIGHT, kind=kind)
    db.session.add(sub)
    db.session.commit()
    return sub.id


def test_a_claim_takes_at_most_n_of_the_oldest_and_the_next_worker_the_rest(app, klass):
    with app.app_context():
        ids = [_submit(klass, klass.learner_ids[0]) for _ in range(7)]
        assert submission_queue.claim_batch("a", 3) == ids[:3]
        assert submission_queue.claim_batch("b", 3) == ids[3:6]
        assert submission_queue.claim_batch("c", 3) == ids[6:]
        assert submission_queue.claim_batch("d", 3) == []
        db.session.commit()
        owners = dict(db.session.execute(select(LabSubmission.id, LabSubmission.worker_id)).all())
        assert [owners[i] for i in ids] == ["a"] * 3 + ["b"] * 3 + ["c"]


@pytest.mark.sandbox
def test_a_batch_is_graded_in_the_sandbox_and_every_grade_recorded(app, klass):
    """One claim for the whole class; the enrolled learners' grades count, the outsider's and
    a mere run do not; each learner's completion and xAPI statements are there."""
    with app.app_context():
        counted = [_submit(klass, user_id) for user_id in klass.learner_ids]
        outsider = _submit(klass, klass.outsider_id)
        run = _submit(klass, klass.learner_ids[0], kind="run")
        assert tasks.work_next("w", None, limit=10) == [*counted, outsider, run]
        db.session.expire_all()
        subs = {s.id: s for s in db.session.scalars(select(LabSubmission))}
        assert {subs[i].verdict for i in subs} == {"accepted"}
        assert [subs[i].counted for i in counted] == [True] * 3
        assert subs[outsider].counted is False and subs[run].counted is False
        done = db.session.scalars(select(ActivityCompletion).order_by(ActivityCompletion.user_id))
        assert [(c.user_id, c.completed, c.attempts) for c in done] == [
            (user_id, True, 1) for user_id in sorted(klass.learner_ids)
        ]
        learners_heard = db.session.scalars(select(XapiStatement.user_id).distinct())
        assert set(learners_heard) == set(klass.learner_ids)


def test_a_lost_lease_in_a_batch_costs_only_that_result(app, klass):
    with app.app_context():
        first, second = (_submit(klass, user_id) for user_id in klass.learner_ids[:2])
        assert submission_queue.claim_batch("slow", 2) == [first, second]
        db.session.commit()
        # Another worker took the first one over (its lease had gone stale).
        db.session.get(LabSubmission, first).worker_id = "rescuer"
        db.session.commit()
        outcomes = [jobs.Outcome(job, ACCEPTED) for job in jobs.load_jobs([first, second])]
        assert jobs.store_results("slow", outcomes) == [False, True]
        db.session.commit()
        graded = db.session.scalars(select(ActivityCompletion.user_id))
        assert list(graded) == [klass.learner_ids[1]]


def test_a_batch_that_cannot_be_stored_whole_is_stored_result_by_result(app, klass, monkeypatch):
    """A result whose recording fails does not take the others down with it: it stays running
    (its lease goes stale and it is graded again), the others are stored."""
    from lms.progress import services

    poison = klass.learner_ids[1]
    real_record = services.record_activity_events

    def failing_for_one(events):
        if any(e.user.id == poison for e in events):
            raise RuntimeError("a receiver failed")
        return real_record(events)

    monkeypatch.setattr(jobs, "grade_job", lambda job: dict(ACCEPTED))
    monkeypatch.setattr(services, "record_activity_events", failing_for_one)
    with app.app_context():
        ids = [_submit(klass, user_id) for user_id in klass.learner_ids]
        claimed = submission_queue.claim_batch("w", 3)
        assert tasks.grade_claimed_batch(claimed, "w") == ["done", "not-stored", "done"]
        db.session.expire_all()
        status = dict(db.session.execute(select(LabSubmission.id, LabSubmission.status)).all())
        assert [status[i] for i in ids] == ["done", "running", "done"]
        assert db.session.scalar(select(func.count(ActivityCompletion.id))) == 2


def test_pool_threads_claim_their_share_of_the_queue_up_to_the_batch_size(app, klass):
    """A lone submission is claimed alone; a class's, in shares that keep every thread busy."""
    app.config["LAB_BATCH"] = 4
    pool = executors.LocalPool(app, workers=2)  # 2 slots x 2 threads
    with app.app_context():
        sizes = [pool._claim_size()]
        for count in (1, 4, 5, 12, 40):
            while db.session.scalar(select(func.count(LabSubmission.id))) < count:
                _submit(klass, klass.learner_ids[0])
            sizes.append(pool._claim_size())
    assert sizes == [0, 1, 1, 2, 3, 4]
