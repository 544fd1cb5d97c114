"""JSON documents the API returns, built from the shared query functions' results."""

from __future__ import annotations

from datetime import datetime

from lms.hr.transcript import Transcript
from lms.skills.supply import skill_profile
from lms.urls import absolute_url


def iso(value: datetime | None) -> str | None:
    """An ISO 8601 UTC timestamp (``Z``), or ``None``."""
    return value.replace(microsecond=0).isoformat() + "Z" if value else None


def transcript_document(record: Transcript, employee: dict) -> dict:
    """The API's transcript: courses, programs, certificates and skills of one employee."""
    return {
        "employee": employee,
        "courses": [
            {
                "course_id": course.id,
                "title": course.title,
                "enrolled_at": iso(enrolment.enrolled_at),
                "enrolment_status": enrolment.status,
                "state": completion.state if completion else "not_started",
                "progress": completion.progress if completion else 0.0,
                "grade": completion.grade if completion else None,
                "completed_at": iso(completion.completed_at) if completion else None,
                "last_activity_at": iso(completion.last_activity_at) if completion else None,
            }
            for course, enrolment, completion in record.courses
        ],
        "programs": [
            {
                "assignment_id": a.id,
                "program_id": a.program_id,
                "program_name": a.program.name,
                "status": a.display_status,
                "progress": a.progress,
                "due_at": iso(a.due_at),
                "completed_at": iso(a.completed_at),
                "expires_at": iso(a.expires_at),
            }
            for a in record.assignments
        ],
        "certificates": [
            {
                "code": c.code,
                "kind": c.kind,
                "title": c.title,
                "grade": c.grade,
                "issued_at": iso(c.issued_at),
                "expires_at": iso(c.expires_at),
                "status": c.status,
                "verify_url": absolute_url("certificates.verify", code=c.code),
            }
            for c in record.certificates
        ],
        "skills": record.skills,
        "skill_profile": [p.as_json() for p in skill_profile(record.employee.id)],
    }


def assignment_document(a, employee: dict, program_name: str, display_status: str) -> dict:
    """One program assignment as the assignments endpoint lists it."""
    return {
        "id": a.id,
        "program_id": a.program_id,
        "program_name": program_name,
        "employee": employee,
        "assigned_at": iso(a.assigned_at),
        "due_at": iso(a.due_at),
        "status": display_status,
        "progress": a.progress,
        "courses_completed": a.courses_completed,
        "completed_at": iso(a.completed_at),
        "expires_at": iso(a.expires_at),
        "cycle": a.cycle,
    }


def completion_document(entry, name: str, payload: dict) -> dict:
    """One ledger entry (a course or program completion) as the completions endpoint lists it."""
    return {
        "seq": entry.seq,
        "kind": "course" if entry.kind == "course_completed" else "program",
        "employee_id": entry.user_id,
        "employee_name": name,
        "course_id": payload.get("course_id"),
        "program_id": payload.get("program_id"),
        "title": payload.get("course") or payload.get("program"),
        "grade": payload.get("grade"),
        "completed_at": (payload.get("completed_at") or "") + "Z"
        if payload.get("completed_at")
        else None,
        "recorded_at": iso(entry.created_at),
        "entry_hash": entry.entry_hash,
    }
