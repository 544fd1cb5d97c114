"""The read-only JSON API under /api/v1 (see :mod:`lms.api.openapi` for the contract)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import Blueprint, jsonify, request

from lms.api import queries
from lms.api.auth import (
    ApiError,
    bad_request,
    current_token,
    cursor_position,
    decode_cursor,
    encode_cursor,
    int_arg,
    not_found,
    render_api_error,
    token_required,
)
from lms.api.documents import (
    assignment_document,
    completion_document,
    iso,
    transcript_document,
)
from lms.api.openapi import openapi_document
from lms.extensions import db
from lms.hr.transcript import employee_transcript
from lms.models import Organization, User
from lms.progress.models import Program
from lms.skills.gap import SORTS, GapFilters, gap_rows
from lms.timeutil import utcnow

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.register_error_handler(ApiError, render_api_error)

STATUSES = ("not_started", "in_progress", "overdue", "completed", "expired")


def _org_id() -> int:
    return current_token().organization_id


def _employee(user: User, department: str | None) -> dict:
    return {"id": user.id, "name": user.name, "email": user.email, "department": department}


# --- organization and programs ----------------------------------------------------------------
@bp.get("/organization")
@token_required
def organization():
    """API endpoint: the token's organization."""
    org = db.session.get(Organization, _org_id())
    return jsonify(id=org.id, slug=org.slug, name=org.name, kind=org.kind)


def _program(p: Program) -> dict:
    return {
        "id": p.id,
        "name": p.name,
        "purpose": p.purpose,
        "description": p.description,
        "completion_mode": p.completion_mode,
        "required_courses": p.required_count,
        "courses": [
            {"id": pc.course_id, "title": pc.course.title, "position": pc.position}
            for pc in p.courses
        ],
        "due_mode": p.due_mode,
        "due_date": iso(p.due_date),
        "due_days": p.due_days,
        "validity_months": p.validity_months,
        "archived": bool(p.archived),
        "created_at": iso(p.created_at),
    }


@bp.get("/programs")
@token_required
def programs():
    """API endpoint: the organization's training programs."""
    return jsonify(data=[_program(p) for p in queries.programs_of(_org_id())])


@bp.get("/programs/<int:program_id>")
@token_required
def program(program_id: int):
    """API endpoint: one training program of the organization."""
    p = queries.program_of(_org_id(), program_id)
    if p is None:
        raise not_found("No such program in your organization.")
    return jsonify(_program(p))


# --- assignments ------------------------------------------------------------------------------
@bp.get("/assignments")
@token_required
def assignments():
    """API endpoint for HR systems: program assignments, filtered and cursor-paged."""
    limit = int_arg("limit", 100, 1, 500)
    program_id = int_arg("program_id")
    user_id = int_arg("user_id")
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        raise bad_request(f"status must be one of {', '.join(STATUSES)}.", "status")
    after = cursor_position(decode_cursor(), "after")
    if program_id is not None and queries.program_of(_org_id(), program_id) is None:
        raise not_found("No such program in your organization.")
    rows = queries.assignment_rows(
        _org_id(), utcnow(), limit=limit, after=after, program_id=program_id, user_id=user_id,
        status=status,
    )  # fmt: skip
    more = len(rows) > limit
    rows = rows[:limit]
    data = [
        assignment_document(a, _employee(user, department), program_name, display_status)
        for a, user, program_name, department, display_status in rows
    ]
    next_cursor = encode_cursor({"after": rows[-1][0].id}) if more else None
    return jsonify(data=data, next_cursor=next_cursor)


# --- employees and transcripts ----------------------------------------------------------------
@bp.get("/employees")
@token_required
def employees():
    """API endpoint for HR systems: the organization's employees, cursor-paged."""
    limit = int_arg("limit", 100, 1, 500)
    after = cursor_position(decode_cursor(), "after")
    rows = queries.employee_rows(_org_id(), limit=limit, after=after)
    more = len(rows) > limit
    rows = rows[:limit]
    return jsonify(
        data=[_employee(user, dept) for user, dept in rows],
        next_cursor=encode_cursor({"after": rows[-1][0].id}) if more else None,
    )


def _member(user_id: int) -> tuple[User, str | None]:
    found = queries.member(_org_id(), user_id)
    if found is None:
        raise not_found("No such employee in your organization.")
    return found


@bp.get("/employees/<int:user_id>/transcript")
@token_required
def transcript(user_id: int):
    """An employee's transcript: the same record as HR's transcript page."""
    user, department = _member(user_id)
    record = employee_transcript(user, _org_id())
    return jsonify(transcript_document(record, _employee(user, department)))


# --- completions feed -------------------------------------------------------------------------
def _since() -> datetime | None:
    raw = request.args.get("since")
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise bad_request(
            "since must be an ISO 8601 date-time, e.g. 2026-01-31T00:00:00Z.", "since"
        ) from None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


@bp.get("/completions")
@token_required
def completions():
    """Course and program completions in the order they were recorded (ledger order).

    The cursor is the ledger sequence number: entries are appended under a lock held until
    commit, so a client that stores ``next_cursor`` never misses a completion committed later.
    """
    limit = int_arg("limit", 100, 1, 1000)
    since = _since()
    after = cursor_position(decode_cursor(), "seq")
    rows = queries.completion_entries(_org_id(), limit=limit, after=after, since=since)
    more = len(rows) > limit
    rows = rows[:limit]
    data = []
    for entry, name in rows:
        payload = json.loads(entry.payload)
        if entry.kind == "program_completed" and payload.get("organization_id") != _org_id():
            continue  # another organization's program
        data.append(completion_document(entry, name, payload))
    last = rows[-1][0].seq if rows else after
    next_cursor = encode_cursor({"seq": last}) if last is not None else None
    return jsonify(data=data, next_cursor=next_cursor, has_more=more)


# --- skills gap -------------------------------------------------------------------------------
@bp.get("/skills/gaps")
@token_required
def skill_gaps():
    """The organization's skills gap: the same figures as the HR page (one query function)."""
    limit = int_arg("limit", 100, 1, 500)
    offset = cursor_position(decode_cursor(), "offset") or 0
    sort = request.args.get("sort", "gap")
    if sort not in SORTS:
        raise bad_request(f"sort must be one of: {', '.join(sorted(SORTS))}.", "sort")
    filters = GapFilters(
        skill_id=int_arg("skill_id", None, 1, 2**31 - 1),
        sort=sort,
        descending=request.args.get("order", "desc") != "asc",
    )
    rows = gap_rows(_org_id(), filters)
    page = rows[offset : offset + limit]
    more = offset + limit < len(rows)
    return jsonify(
        data=[r.as_json() for r in page],
        total=len(rows),
        next_cursor=encode_cursor({"offset": offset + limit}) if more else None,
    )


@bp.get("/openapi.json")
def openapi():
    """API endpoint: the OpenAPI description of this API."""
    return jsonify(openapi_document())
