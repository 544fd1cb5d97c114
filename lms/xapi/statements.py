"""xAPI statements for every learning event, their export, and the LRS outbox.

Each event is turned into an xAPI 1.0.3 statement and stored in ``xapi_statements`` in the same
transaction. The actor is an *account* (home page = the site, name = the user id), never an
email address: statements leave the site (LRS, exports) and must not leak addresses.

Events -> ADL verbs: enrolled -> registered; an activity viewed -> experienced; submitted ->
attempted; graded -> answered (+ failed below the pass mark); an activity completed ->
completed (+ passed when it has a pass mark); a course completed -> completed (+ passed when the
course has a minimum grade); a course failed -> failed; a program completed -> completed.
Forwarding to an LRS lives in :mod:`lms.xapi.lrs`; the export pages in
:mod:`lms.xapi.views`.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

from flask import Flask, current_app, has_request_context
from sqlalchemy import select

from lms import signals
from lms.domain.models import Activity, CompletionRule, Course
from lms.extensions import db
from lms.models import Organization, Role, User
from lms.plugins import activity_registry
from lms.progress.models import LearningEvent
from lms.timeutil import utcnow
from lms.urls import site_url
from lms.xapi.lrs import note_new_statement
from lms.xapi.models import XapiStatement

ADL = "http://adlnet.gov/expapi/verbs/"
VERBS = {
    "registered": ADL + "registered",
    "experienced": ADL + "experienced",
    "attempted": ADL + "attempted",
    "answered": ADL + "answered",
    "completed": ADL + "completed",
    "passed": ADL + "passed",
    "failed": ADL + "failed",
}
ACTIVITY_TYPES = {
    "course": "http://adlnet.gov/expapi/activities/course",
    "program": "http://adlnet.gov/expapi/activities/module",
    "organization": "http://activitystrea.ms/schema/1.0/organization",
}
DEFAULT_ACTIVITY_TYPE = "http://adlnet.gov/expapi/activities/interaction"


def _timestamp() -> str:
    return utcnow().isoformat(timespec="milliseconds") + "Z"


def learner_organization(user: User) -> Organization | None:
    """The organization a learner learns for: their learner membership, else their first one."""
    memberships = sorted(user.memberships, key=lambda m: (m.role != Role.LEARNER, m.id))
    return memberships[0].organization if memberships else None


def actor(user: User) -> dict:
    """xAPI actor of a learner, by account id on this site."""
    return {
        "objectType": "Agent",
        "account": {"homePage": site_url() + "/", "name": str(user.id)},
    }


def _activity(iri: str, name: str, kind: str) -> dict:
    return {
        "objectType": "Activity",
        "id": iri,
        "definition": {
            "name": {"en-US": name or "Untitled"},
            "type": ACTIVITY_TYPES.get(kind) or _plugin_activity_type(kind),
        },
    }


def _plugin_activity_type(key: str) -> str:
    """The xAPI activity type an activity plugin declares for its activities."""
    plugin = activity_registry().get(key)
    return plugin.xapi_activity_type if plugin is not None else DEFAULT_ACTIVITY_TYPE


def course_object(course: Course) -> dict:
    """xAPI activity object of a course."""
    return _activity(f"{site_url()}/courses/{course.id}", course.title, "course")


def activity_object(activity: Activity) -> dict:
    """xAPI activity object of a course activity."""
    iri = f"{site_url()}/courses/{activity.course_id}/activities/{activity.id}"
    return _activity(iri, activity.title, activity.type)


def program_object(program) -> dict:
    """xAPI activity object of a training program."""
    return _activity(f"{site_url()}/programs/{program.id}", program.name, "program")


def _context(org: Organization | None, parent: dict | None) -> dict:
    context: dict[str, Any] = {"platform": "EduCluster", "language": "en"}
    activities: dict[str, list] = {}
    if parent is not None:
        activities["parent"] = [parent]
    if org is not None:
        activities["grouping"] = [
            _activity(f"{site_url()}/organizations/{org.slug}", org.name, "organization")
        ]
        context["extensions"] = {
            f"{site_url()}/xapi/extensions/organization": {
                "id": org.id,
                "slug": org.slug,
                "name": org.name,
            }
        }
    if activities:
        context["contextActivities"] = activities
    return context


def _result(
    grade: float | None = None,
    success: bool | None = None,
    completion: bool | None = None,
) -> dict | None:
    result: dict[str, Any] = {}
    if grade is not None:
        raw = round(float(grade), 2)
        result["score"] = {"scaled": round(raw / 100, 4), "raw": raw, "min": 0, "max": 100}
    if success is not None:
        result["success"] = success
    if completion is not None:
        result["completion"] = completion
    return result or None


def record_statement(
    user: User,
    verb: str,
    obj: dict,
    *,
    course_id: int | None = None,
    parent: dict | None = None,
    result: dict | None = None,
) -> XapiStatement:
    """Build, store and return one statement by ``user``.

    The row is added to the session, not flushed on its own: the statements of one event (an
    answer, then the completion it causes) go to the database in one batched INSERT at the next
    flush (any query, or the commit).
    """
    org = learner_organization(user)
    statement: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": actor(user),
        "verb": {"id": VERBS[verb], "display": {"en-US": verb}},
        "object": obj,
        "context": _context(org, parent),
        "timestamp": _timestamp(),
        "version": "1.0.3",
    }
    if result:
        statement["result"] = result
    if current_app.config.get("XAPI_VALIDATE"):
        validate_statement(statement)
    row = XapiStatement(
        id=statement["id"],
        user_id=user.id,
        organization_id=org.id if org else None,
        course_id=course_id,
        verb=verb,
        statement=json.dumps(statement, separators=(",", ":"), ensure_ascii=False),
        stored_at=utcnow(),
    )
    db.session.add(row)
    if has_request_context():
        note_new_statement()
    return row


def validate_statement(statement: dict) -> None:
    """Validate with ralph's pydantic ``BaseXapiStatement`` (dev dependency; debug and tests).

    ralph 5.0.1 declares ``result.score.scaled`` as an integer (openfun/ralph#612, fixed after
    5.0.1) although xAPI makes it a decimal in [-1, 1]. We check that range ourselves and hand
    ralph an integer in its place; every other field is validated by ralph as emitted.
    """
    # imported here: ralph is a dev dependency (and slow to import), absent in production.
    from ralph.models.xapi.base.results import BaseXapiResultScore
    from ralph.models.xapi.base.statements import BaseXapiStatement

    candidate = json.loads(json.dumps(statement))
    score = (candidate.get("result") or {}).get("score") or {}
    if "scaled" in score:
        scaled = score["scaled"]
        if not isinstance(scaled, (int, float)) or not -1 <= scaled <= 1:
            raise ValueError(f"result.score.scaled must be a number in [-1, 1], got {scaled!r}")
        if "int" in repr(BaseXapiResultScore.model_fields["scaled"].annotation):
            score["scaled"] = round(scaled)
    BaseXapiStatement.model_validate(candidate)


# --- signal handlers --------------------------------------------------------------------------
def _pass_mark(activity: Activity) -> float | None:
    if activity.completion_rule != CompletionRule.PASSED:
        return None
    return activity.pass_mark if activity.pass_mark is not None else 50.0


def _on_enrolled(sender, user, course, **_) -> None:
    record_statement(user, "registered", course_object(course), course_id=course.id)


def _on_activity_event(sender, user, activity, event, grade=None, **_) -> None:
    parent = course_object(activity.course)
    obj = activity_object(activity)
    common = {"course_id": activity.course_id, "parent": parent}
    if event == LearningEvent.VIEWED:
        record_statement(user, "experienced", obj, **common)
    elif grade is None:
        record_statement(user, "attempted", obj, **common)
    else:
        mark = _pass_mark(activity)
        success = None if mark is None else grade >= mark
        record_statement(user, "answered", obj, result=_result(grade, success), **common)
        if success is False:
            record_statement(user, "failed", obj, result=_result(grade, False), **common)


def _on_activity_completed(sender, user, activity, completion, **_) -> None:
    parent = course_object(activity.course)
    obj = activity_object(activity)
    common = {"course_id": activity.course_id, "parent": parent}
    grade = completion.grade
    record_statement(user, "completed", obj, result=_result(grade, None, True), **common)
    if _pass_mark(activity) is not None:
        record_statement(user, "passed", obj, result=_result(grade, True, True), **common)


def _on_course_completed(sender, user, course, completion, **_) -> None:
    obj = course_object(course)
    grade = completion.grade
    record_statement(user, "completed", obj, course_id=course.id, result=_result(grade, None, True))
    if course.completion_min_grade is not None:
        record_statement(
            user, "passed", obj, course_id=course.id, result=_result(grade, True, True)
        )


def _on_course_failed(sender, user, course, completion, **_) -> None:
    result = _result(getattr(completion, "grade", None), False, False)
    record_statement(user, "failed", course_object(course), course_id=course.id, result=result)


def _on_program_completed(sender, user, program, assignment, **_) -> None:
    record_statement(user, "completed", program_object(program), result=_result(None, None, True))


def statements_query(*, user_id: int | None = None, organization_id: int | None = None):
    """Statements of one learner or one organization, in the order they were stored."""
    stmt = select(XapiStatement.statement).order_by(XapiStatement.stored_at, XapiStatement.id)
    if user_id is not None:
        stmt = stmt.where(XapiStatement.user_id == user_id)
    if organization_id is not None:
        stmt = stmt.where(XapiStatement.organization_id == organization_id)
    return stmt


def init_app(app: Flask) -> None:
    """Record statements on every learning event; register export pages and the LRS command."""
    # Validate each statement with ralph's models as it is emitted (ralph is a dev dependency):
    # on in the tests, and for debugging with XAPI_VALIDATE=1.
    app.config.setdefault("XAPI_VALIDATE", os.environ.get("XAPI_VALIDATE", "") in ("1", "true"))
    signals.enrolled.connect(_on_enrolled)
    signals.activity_event.connect(_on_activity_event)
    signals.activity_completed.connect(_on_activity_completed)
    signals.course_completed.connect(_on_course_completed)
    signals.course_failed.connect(_on_course_failed)
    signals.program_completed.connect(_on_program_completed)
