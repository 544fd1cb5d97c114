"""Claimed submissions: what they are graded with, and their results stored, in batches.

A worker loads the jobs of the submissions it has claimed in two queries, grades them in the
sandbox with no transaction open, and stores the results in one transaction: each result only
while the worker still holds that submission's lease, and every counted grade recorded as a
"graded" learning event in that same transaction (:func:`lms.progress.services.record_activity_events`,
so a batch reads and writes each course's completions once). Like services, these functions
flush and never commit: the task commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select, tuple_
from sqlalchemy.orm import joinedload

from lms.domain.models import Enrolment, EnrolmentStatus
from lms.extensions import db
from lms.models import Membership, User
from lms.pagecache.generations import bump
from lms.timeutil import utcnow
from virtual_labs.models import (
    LIMIT_BOUNDS,
    Lab,
    LabSubmission,
    LabTest,
    SubmissionKind,
    SubmissionStatus,
)
from virtual_labs.services import test_spec


@dataclass(frozen=True)
class Job:
    """Everything needed to grade a submission, detached from the database session."""

    submission_id: int
    language: str
    files: dict[str, str]
    tests: list[dict[str, Any]] = field(default_factory=list)
    limits: dict[str, float] = field(default_factory=dict)
    kind: str = SubmissionKind.SUBMIT
    user_id: int | None = None
    lab_id: int | None = None


@dataclass(frozen=True)
class Outcome:
    """A graded job: the grader's ``report``, or None and the ``error`` the learner is shown."""

    job: Job
    report: dict[str, Any] | None
    error: str = ""


def load_jobs(submission_ids: Sequence[int]) -> list[Job]:
    """The jobs of these submissions, in this order: two plain queries, no ORM objects.

    The grade's recording loads the labs once, after the runs: an object loaded here would
    only be expired by the commit and loaded again.
    """
    limit_columns = [getattr(Lab, name) for name in LIMIT_BOUNDS]
    rows = {
        row.id: row
        for row in db.session.execute(
            select(
                LabSubmission.id,
                LabSubmission.lab_id,
                LabSubmission.user_id,
                LabSubmission.files,
                LabSubmission.kind,
                Lab.language,
                *limit_columns,
            )
            .join(Lab, Lab.id == LabSubmission.lab_id)
            .where(LabSubmission.id.in_(submission_ids))
        )
    }
    tests: dict[int, list[LabTest]] = defaultdict(list)
    for test in db.session.scalars(
        select(LabTest)
        .where(LabTest.lab_id.in_({row.lab_id for row in rows.values()}))
        .order_by(LabTest.lab_id, LabTest.position)
    ):
        tests[test.lab_id].append(test)
    return [
        _job(rows[submission_id], tests[rows[submission_id].lab_id])
        for submission_id in submission_ids
    ]


def _job(row, tests: list[LabTest]) -> Job:
    """A job from its submission's row and its lab's tests (a mere run: the visible ones)."""
    if row.kind == SubmissionKind.RUN:
        tests = [t for t in tests if not t.hidden]
    return Job(
        submission_id=row.id,
        language=row.language,
        files=dict(row.files),
        tests=[t.to_content() for t in tests],
        limits={name: getattr(row, name) for name in LIMIT_BOUNDS},
        kind=row.kind,
        user_id=row.user_id,
        lab_id=row.lab_id,
    )


def grade_job(job: Job) -> dict[str, Any]:
    """Run the job through the sandbox and grader; the report as a dict (no database access)."""
    from virtual_labs.grading import grade_submission
    from virtual_labs.sandbox import Limits

    limits = Limits(
        cpu_s=float(job.limits["cpu_s"]),
        wall_s=float(job.limits["wall_s"]),
        memory_mb=int(job.limits["memory_mb"]),
        procs=int(job.limits["procs"]),
        output_kb=int(job.limits["output_kb"]),
    )
    report = grade_submission(job.language, job.files, [test_spec(t) for t in job.tests], limits)
    return report.to_dict()


_submissions = LabSubmission.__table__
#: One result, stored only while the worker holds the lease; the SET clause is the columns the
#: parameters name. A Core statement built once: no ORM bulk-update machinery per result, and
#: no page-cache hook (store_results marks the learners' pages out of date itself).
_STORE_IF_HELD = _submissions.update().where(
    _submissions.c.id == bindparam("held_id"),
    _submissions.c.worker_id == bindparam("held_by"),
    _submissions.c.status == SubmissionStatus.RUNNING,
)


def store_results(worker_id: str, outcomes: Sequence[Outcome]) -> list[bool]:
    """Store each outcome if ``worker_id`` still holds its submission; record counted grades.

    A graded submission of an enrolled learner is recorded as a "graded" learning event in the
    same transaction, so completion follows at once. An outcome's entry is False when its lease
    was lost (another worker took the submission over): nothing of it is stored then.
    """
    counted = _countable(outcomes)
    # Each result changes its learner's kept pages: one statement marks them all out of date.
    bump(db.session, user_ids={o.job.user_id for o in outcomes if o.job.user_id})
    stored, events = [], []
    for outcome in outcomes:
        job = outcome.job
        values = _result_values(outcome.report, outcome.error)
        graded = outcome.report is not None and job.kind == SubmissionKind.SUBMIT
        if graded:  # marked in the same UPDATE that stores the result (one statement less)
            values["counted"] = job.submission_id in counted
        params = {**values, "held_id": job.submission_id, "held_by": worker_id}
        won = db.session.execute(_STORE_IF_HELD, params).rowcount
        stored.append(won == 1)
        if won == 1 and graded and job.submission_id in counted:
            events.append((counted[job.submission_id], float(outcome.report.get("score") or 0.0)))
    if events:
        from lms.progress.services import ActivityEvent, record_activity_events

        record_activity_events(
            [ActivityEvent(user, lab, "graded", grade=score) for (user, lab), score in events]
        )
    db.session.flush()
    return stored


def _result_values(report: dict[str, Any] | None, error: str) -> dict[str, Any]:
    """The columns a finished run sets: its report, or the error when the sandbox failed."""
    now = utcnow()
    values: dict[str, Any] = {"finished_at": now, "heartbeat_at": now}
    if report is None:
        values.update(status=SubmissionStatus.ERROR, verdict="sandbox_error", error=error)
    else:
        values.update(
            status=SubmissionStatus.DONE,
            verdict=report.get("verdict"),
            score=report.get("score"),
            report=report,
        )
    return values


def _countable(outcomes: Sequence[Outcome]) -> dict[int, tuple[User, Lab]]:
    """(user, lab) by submission, for the graded submissions whose grade counts for completion.

    A grade counts for an actively enrolled learner; authors previewing and withdrawn learners
    are graded but not counted. What recording the grades reads comes in these queries, not in
    lazy loads: the statements name each learner's organization and each lab's course.
    """
    jobs = [o.job for o in outcomes if o.report is not None and o.job.kind == SubmissionKind.SUBMIT]
    if not jobs:
        return {}
    users = {
        user.id: user
        for user in db.session.scalars(
            select(User)
            .where(User.id.in_({job.user_id for job in jobs}))
            .options(joinedload(User.memberships).joinedload(Membership.organization))
        ).unique()
    }
    labs = {
        lab.id: lab
        for lab in db.session.scalars(
            select(Lab)
            .where(Lab.id.in_({job.lab_id for job in jobs}))
            .options(joinedload(Lab.course))
        )
    }
    pairs = {(job.user_id, labs[job.lab_id].course_id) for job in jobs if job.lab_id in labs}
    enrolled: set[tuple[int, int]] = set()
    if pairs:
        enrolled = {
            (user_id, course_id)
            for user_id, course_id in db.session.execute(
                select(Enrolment.user_id, Enrolment.course_id).where(
                    tuple_(Enrolment.user_id, Enrolment.course_id).in_(pairs),
                    Enrolment.status == EnrolmentStatus.ACTIVE,
                )
            )
        }
    return {
        job.submission_id: (users[job.user_id], labs[job.lab_id])
        for job in jobs
        if job.user_id in users
        and job.lab_id in labs
        and (job.user_id, labs[job.lab_id].course_id) in enrolled
    }
