"""Grade passback (AGS) through an outbox: never lost, never sent twice.

A grade recorded for a launched lab or quiz (or a completed course) writes an ``LtiScore`` row
in the same transaction. ``flush_scores`` claims due rows one at a time with an atomic UPDATE
(so two senders never post the same row), posts each with the library's AGS service and marks
it sent only after the platform accepted it. While the platform is down the row waits, with a
backoff (30 s doubling, at most 6 h), and a newer score for the same link and person
supersedes an older unsent one instead of following it. Every row keeps the timestamp it was
created with: AGS platforms ignore a score that is not newer than the last one they stored, so
even a crash between the platform's answer and our commit cannot count a score twice.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask, g
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException
from pylti1p3.grade import Grade
from sqlalchemy import and_, func, or_, select, update

from lms import signals
from lms.extensions import db
from lms.timeutil import utcnow

from .models import LtiContextRole, LtiResourceLink, LtiScore, LtiUserLink, ScoreStatus
from .services_remote import connector

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
BASE_BACKOFF = 30
MAX_BACKOFF = 6 * 3600
LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class FlushResult:
    """Counts of LTI scores sent, failed and still pending after a flush."""

    sent: int
    failed: int
    pending: int
    error: str = ""


def _timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def queue_scores(user_id: int, links: list[LtiResourceLink], score: float) -> int:
    """Queue ``score`` (0-100) for each link the person launched; returns how many."""
    queued = 0
    for link in links:
        if SCORE_SCOPE not in (link.ags or {}).get("scope", []) or not link.lineitem_url:
            continue
        subject = db.session.scalar(
            select(LtiUserLink.subject).where(
                LtiUserLink.user_id == user_id, LtiUserLink.platform_id == link.platform_id
            )
        )
        if subject is None:
            continue
        db.session.execute(
            update(LtiScore)
            .where(
                LtiScore.link_id == link.id,
                LtiScore.user_id == user_id,
                LtiScore.status == ScoreStatus.PENDING,
            )
            .values(status=ScoreStatus.SUPERSEDED)
            .execution_options(synchronize_session=False)
        )
        db.session.add(
            LtiScore(
                link_id=link.id,
                user_id=user_id,
                subject=subject,
                score=max(0.0, min(100.0, float(score))),
                timestamp=_timestamp(),
            )
        )
        queued += 1
    if queued:
        db.session.flush()
        g.lti_scores_queued = True
    return queued


def _links_for(user_id: int, *, activity_id: int | None, course_id: int | None) -> list:
    """Links of this activity (or of the whole course) in platform courses the person is in."""
    query = (
        select(LtiResourceLink)
        .join(LtiUserLink, LtiUserLink.platform_id == LtiResourceLink.platform_id)
        .join(
            LtiContextRole,
            and_(
                LtiContextRole.context_pk == LtiResourceLink.context_pk,
                LtiContextRole.user_id == user_id,
                LtiContextRole.active.is_(True),
            ),
        )
        .where(LtiUserLink.user_id == user_id)
    )
    if activity_id is not None:
        query = query.where(LtiResourceLink.activity_id == activity_id)
    else:
        query = query.where(
            LtiResourceLink.course_id == course_id, LtiResourceLink.activity_id.is_(None)
        )
    return list(db.session.scalars(query))


def _on_activity_event(sender, user, activity, event, grade=None, memo=None, **_) -> None:
    if grade is None or not _has_links(activity.id, {} if memo is None else memo):
        return
    queue_scores(user.id, _links_for(user.id, activity_id=activity.id, course_id=None), grade)


def _has_links(activity_id: int, memo: dict) -> bool:
    """Whether any platform links this activity (asked once per batch of events)."""
    key = ("lms.lti.linked", activity_id)
    if key not in memo:
        memo[key] = (
            db.session.scalar(
                select(LtiResourceLink.id)
                .where(LtiResourceLink.activity_id == activity_id)
                .limit(1)
            )
            is not None
        )
    return memo[key]


def _on_course_completed(sender, user, course, completion, **_) -> None:
    grade = completion.grade if completion.grade is not None else 100.0
    queue_scores(user.id, _links_for(user.id, activity_id=None, course_id=course.id), grade)


# --- sending ------------------------------------------------------------------------------------
def pending_count() -> int:
    """Scores not yet accepted by their platform."""
    return db.session.scalar(
        select(func.count(LtiScore.id)).where(
            LtiScore.status.in_((ScoreStatus.PENDING, ScoreStatus.SENDING))
        )
    )


def _claim(score_id: int) -> bool:
    now = utcnow()
    result = db.session.execute(
        update(LtiScore)
        .where(
            LtiScore.id == score_id,
            or_(
                LtiScore.status == ScoreStatus.PENDING,
                # A sender that died mid-post left its lease behind.
                and_(LtiScore.status == ScoreStatus.SENDING, LtiScore.lease_until < now),
            ),
        )
        .values(status=ScoreStatus.SENDING, lease_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def _due_ids(limit: int) -> list[int]:
    now = utcnow()
    return list(
        db.session.scalars(
            select(LtiScore.id)
            .where(
                or_(
                    and_(
                        LtiScore.status == ScoreStatus.PENDING,
                        or_(LtiScore.next_attempt_at.is_(None), LtiScore.next_attempt_at <= now),
                    ),
                    and_(LtiScore.status == ScoreStatus.SENDING, LtiScore.lease_until < now),
                )
            )
            .order_by(LtiScore.id)
            .limit(limit)
        )
    )


def _post(row: LtiScore) -> None:
    link = row.link
    grade = (
        Grade()
        .set_score_given(round(row.score, 4))
        .set_score_maximum(100)
        .set_timestamp(row.timestamp)
        .set_activity_progress(row.activity_progress)
        .set_grading_progress(row.grading_progress)
        .set_user_id(row.subject)
    )
    service = AssignmentsGradesService(connector(link.platform), dict(link.ags or {}))
    if link.lineitem_url:
        service._service_data["lineitem"] = link.lineitem_url  # the line item of this link
    service.put_grade(grade)


def flush_scores(limit: int = 500, ignore_backoff: bool = False) -> FlushResult:
    """Post due scores; commits per row. Stops at the first platform that is unreachable."""
    if ignore_backoff:
        db.session.execute(
            update(LtiScore)
            .where(LtiScore.status == ScoreStatus.PENDING)
            .values(next_attempt_at=None)
        )
        db.session.commit()
    sent = failed = 0
    error = ""
    for score_id in _due_ids(limit):
        if not _claim(score_id):
            continue  # another sender took it
        row = db.session.get(LtiScore, score_id)
        try:
            _post(row)
        except (LtiException, OSError, Exception) as exc:  # noqa: B014 - any failure: retry later
            row.status = ScoreStatus.PENDING
            row.attempts += 1
            delay = min(BASE_BACKOFF * 2 ** (row.attempts - 1), MAX_BACKOFF)
            row.next_attempt_at = utcnow() + timedelta(seconds=delay)
            row.lease_until = None
            error = row.last_error = f"{type(exc).__name__}: {exc}"[:500]
            failed += 1
        else:
            row.status, row.sent_at, row.lease_until, row.last_error = (
                ScoreStatus.SENT,
                utcnow(),
                None,
                "",
            )
            sent += 1
        db.session.commit()
    return FlushResult(sent, failed, pending_count(), error)


# --- wiring -------------------------------------------------------------------------------------
_flush_lock = threading.Lock()
_last_flush = {"at": 0.0}


def _flush_in_background(app: Flask) -> None:
    if not _flush_lock.acquire(blocking=False):
        return
    try:
        with app.app_context():
            try:
                flush_scores(limit=100)
            except Exception:  # never let a background flush take the process down
                app.logger.exception("background LTI score flush failed")
                db.session.rollback()
            finally:
                db.session.remove()
    finally:
        _flush_lock.release()


def init_app(app: Flask) -> None:
    """Subscribe to grade events; after a request that queued scores, post them in the
    background (unless LTI_FLUSH_AFTER_REQUEST is off; ``flask lti flush-scores`` from cron
    catches up on anything left)."""
    signals.activity_event.connect(_on_activity_event)
    signals.course_completed.connect(_on_course_completed)
    app.config.setdefault("LTI_FLUSH_AFTER_REQUEST", not app.testing)

    # An app context, not a request: lab grades are recorded by worker threads and tasks too.
    @app.teardown_appcontext
    def _maybe_flush(exc) -> None:
        if exc is not None or not g.get("lti_scores_queued"):
            return
        if not app.config.get("LTI_FLUSH_AFTER_REQUEST"):
            return
        now = time.monotonic()
        if now - _last_flush["at"] < 2:
            return
        _last_flush["at"] = now
        threading.Thread(target=_flush_in_background, args=(app,), daemon=True).start()
