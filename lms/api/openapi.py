"""The OpenAPI 3.1 description of /api/v1 (a test checks it against the routes and responses)."""

from __future__ import annotations

from flask import current_app

NULLABLE_STR = {"type": ["string", "null"]}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
TIME = {"type": "string", "format": "date-time"}
NULLABLE_NUM = {"type": ["number", "null"]}
NULLABLE_INT = {"type": ["integer", "null"]}
CURSOR = {"type": ["string", "null"], "description": "Pass as ?cursor= for the next page."}


def _obj(required: dict, optional: dict | None = None) -> dict:
    return {
        "type": "object",
        "required": sorted(required),
        "properties": {**required, **(optional or {})},
    }


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS = {
    "Problem": _obj(
        {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"}},
        {"detail": {"type": "string"}, "parameter": {"type": "string"}},
    ),
    "Organization": _obj(
        {
            "id": {"type": "integer"},
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "kind": {"type": "string"},
        }
    ),
    "Employee": _obj(
        {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "email": {"type": "string", "format": "email"},
            "department": NULLABLE_STR,
        }
    ),
    "Program": _obj(
        {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "purpose": {
                "type": "string",
                "enum": ["upskilling", "retraining", "onboarding", "compliance"],
            },
            "description": {"type": "string"},
            "completion_mode": {"type": "string", "enum": ["all", "n_of"]},
            "required_courses": {"type": "integer"},
            "courses": {
                "type": "array",
                "items": _obj(
                    {
                        "id": {"type": "integer"},
                        "title": {"type": "string"},
                        "position": {"type": "integer"},
                    }
                ),
            },
            "due_mode": {"type": "string", "enum": ["fixed", "relative"]},
            "due_date": NULLABLE_TIME,
            "due_days": NULLABLE_INT,
            "validity_months": NULLABLE_INT,
            "archived": {"type": "boolean"},
            "created_at": TIME,
        }
    ),
    "Assignment": _obj(
        {
            "id": {"type": "integer"},
            "program_id": {"type": "integer"},
            "program_name": {"type": "string"},
            "employee": _ref("Employee"),
            "assigned_at": TIME,
            "due_at": NULLABLE_TIME,
            "status": {
                "type": "string",
                "enum": ["not_started", "in_progress", "overdue", "completed", "expired"],
            },
            "progress": {"type": "number", "minimum": 0, "maximum": 100},
            "courses_completed": {"type": "integer"},
            "completed_at": NULLABLE_TIME,
            "expires_at": NULLABLE_TIME,
            "cycle": {"type": "integer"},
        }
    ),
    "Transcript": _obj(
        {
            "employee": _ref("Employee"),
            "courses": {
                "type": "array",
                "items": _obj(
                    {
                        "course_id": {"type": "integer"},
                        "title": {"type": "string"},
                        "enrolled_at": TIME,
                        "enrolment_status": {"type": "string"},
                        "state": {
                            "type": "string",
                            "enum": ["not_started", "in_progress", "completed", "failed"],
                        },
                        "progress": {"type": "number"},
                        "grade": NULLABLE_NUM,
                        "completed_at": NULLABLE_TIME,
                        "last_activity_at": NULLABLE_TIME,
                    }
                ),
            },
            "programs": {
                "type": "array",
                "items": _obj(
                    {
                        "assignment_id": {"type": "integer"},
                        "program_id": {"type": "integer"},
                        "program_name": {"type": "string"},
                        "status": {"type": "string"},
                        "progress": {"type": "number"},
                        "due_at": NULLABLE_TIME,
                        "completed_at": NULLABLE_TIME,
                        "expires_at": NULLABLE_TIME,
                    }
                ),
            },
            "certificates": {
                "type": "array",
                "items": _obj(
                    {
                        "code": {"type": "string"},
                        "kind": {"type": "string", "enum": ["course", "program"]},
                        "title": {"type": "string"},
                        "grade": NULLABLE_NUM,
                        "issued_at": TIME,
                        "expires_at": NULLABLE_TIME,
                        "status": {"type": "string", "enum": ["valid", "revoked", "expired"]},
                        "verify_url": {"type": "string", "format": "uri"},
                    }
                ),
            },
            "skills": {"type": "array", "items": {"type": "string"}},
        }
    ),
    "Completion": _obj(
        {
            "seq": {"type": "integer", "description": "Ledger sequence number (commit order)."},
            "kind": {"type": "string", "enum": ["course", "program"]},
            "employee_id": {"type": "integer"},
            "employee_name": {"type": "string"},
            "course_id": NULLABLE_INT,
            "program_id": NULLABLE_INT,
            "title": {"type": "string"},
            "grade": NULLABLE_NUM,
            "completed_at": NULLABLE_TIME,
            "recorded_at": TIME,
            "entry_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        }
    ),
}

SCHEMAS["SkillGap"] = _obj(
    {
        "skill_id": {"type": "integer"},
        "uri": {"type": "string"},
        "label": {"type": "string"},
        "level": {"type": "integer", "description": "Rank in the skill's proficiency scale."},
        "level_name": {"type": "string"},
        "needed_by": {"type": "string", "format": "date"},
        "demand": {"type": "integer", "description": "Headcount of the roles requiring it."},
        "supply": {"type": "integer", "description": "People holding the level now."},
        "pipeline": {"type": "integer", "description": "People in training, due by the date."},
        "gap": {"type": "integer", "description": "demand - supply - pipeline, at least 0."},
    }
)
SCHEMAS["SkillProfileEntry"] = _obj(
    {
        "uri": {"type": "string"},
        "label": {"type": "string"},
        "framework": {"type": "string"},
        "level": NULLABLE_INT,
        "level_name": NULLABLE_STR,
        "basis": {"type": ["string", "null"], "enum": ["validated", "earned", None]},
        "self_assessed_level": NULLABLE_INT,
        "evidence": {"type": "array", "items": {"type": "object"}},
    }
)
SCHEMAS["Transcript"]["properties"]["skill_profile"] = {
    "type": "array",
    "items": _ref("SkillProfileEntry"),
}

_LIST = {
    "SkillGapPage": _obj(
        {
            "data": {"type": "array", "items": _ref("SkillGap")},
            "total": {"type": "integer"},
            "next_cursor": CURSOR,
        }
    ),
    "ProgramList": _obj({"data": {"type": "array", "items": _ref("Program")}}),
    "AssignmentPage": _obj(
        {"data": {"type": "array", "items": _ref("Assignment")}, "next_cursor": CURSOR}
    ),
    "EmployeePage": _obj(
        {"data": {"type": "array", "items": _ref("Employee")}, "next_cursor": CURSOR}
    ),
    "CompletionFeed": _obj(
        {
            "data": {"type": "array", "items": _ref("Completion")},
            "next_cursor": CURSOR,
            "has_more": {"type": "boolean"},
        }
    ),
}


def _problem(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
    }


def _ok(schema: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _param(name: str, schema: dict, description: str, where: str = "query") -> dict:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema,
    }


LIMIT = _param("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "Page size.")
CURSOR_PARAM = _param("cursor", {"type": "string"}, "next_cursor of the previous page.")
ERRORS = {
    "401": _problem("Missing, unknown or revoked token."),
    "403": _problem("The token's creator no longer manages the organization."),
}


def _op(op_id: str, summary: str, response: dict, params: list | None = None, **errors) -> dict:
    responses = {"200": response, **ERRORS}
    for code, text in errors.items():
        responses[code.lstrip("e")] = _problem(text)
    return {
        "get": {
            "operationId": op_id,
            "summary": summary,
            "parameters": params or [],
            "responses": responses,
            "security": [{"bearer": []}],
        }
    }


def openapi_document() -> dict:
    """The OpenAPI 3.1 document served at /api/v1/openapi.json."""
    site = current_app.config["SITE_URL"].rstrip("/")
    user_id = _param("user_id", {"type": "integer"}, "Employee (user) id.", "path")
    program_id = _param("program_id", {"type": "integer"}, "Program id.", "path")
    paths = {
        "/organization": _op(
            "getOrganization", "The organization the token belongs to.", _ok("Organization", "OK")
        ),
        "/programs": _op("listPrograms", "Programs of the organization.", _ok("ProgramList", "OK")),
        "/programs/{program_id}": _op(
            "getProgram",
            "One program.",
            _ok("Program", "OK"),
            [program_id],
            e404="Unknown program.",
        ),
        "/assignments": _op(
            "listAssignments",
            "Program assignments with their status, oldest first (cursor pagination).",
            _ok("AssignmentPage", "OK"),
            [
                _param("program_id", {"type": "integer"}, "Only this program."),
                _param("user_id", {"type": "integer"}, "Only this employee."),
                _param(
                    "status",
                    {
                        "type": "string",
                        "enum": ["not_started", "in_progress", "overdue", "completed", "expired"],
                    },
                    "Only this status.",
                ),
                LIMIT,
                CURSOR_PARAM,
            ],
            e400="Invalid parameter.",
            e404="Unknown program.",
        ),
        "/employees": _op(
            "listEmployees",
            "Employees (learners) of the organization.",
            _ok("EmployeePage", "OK"),
            [LIMIT, CURSOR_PARAM],
            e400="Invalid parameter.",
        ),
        "/employees/{user_id}/transcript": _op(
            "getTranscript",
            "An employee's courses, programs, certificates and skills.",
            _ok("Transcript", "OK"),
            [user_id],
            e404="Not an employee of the organization.",
        ),
        "/skills/gaps": _op(
            "listSkillGaps",
            "Demand, supply, pipeline and gap per demanded skill and level of the organization "
            "(the figures of the HR skills gap page), largest gap first.",
            _ok("SkillGapPage", "OK"),
            [
                _param("skill_id", {"type": "integer"}, "Only this skill."),
                _param(
                    "sort",
                    {
                        "type": "string",
                        "enum": ["date", "demand", "gap", "pipeline", "skill", "supply"],
                    },
                    "Sort column.",
                ),
                _param("order", {"type": "string", "enum": ["asc", "desc"]}, "Sort order."),
                LIMIT,
                CURSOR_PARAM,
            ],
            e400="Invalid parameter.",
        ),
        "/completions": _op(
            "listCompletions",
            "Course and program completions in commit order, for incremental sync: store "
            "next_cursor and pass it next time.",
            _ok("CompletionFeed", "OK"),
            [
                _param("since", {"type": "string", "format": "date-time"}, "Recorded at or after."),
                _param("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "Page size."),
                CURSOR_PARAM,
            ],
            e400="Invalid parameter.",
        ),
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document.",
                "security": [],
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "EduCluster HR API",
            "version": "1.0.0",
            "description": (
                "Read-only access for HR systems to one organization's programs, assignments, "
                "transcripts and completions. Authenticate with a personal access token created "
                "by an HR manager or organization admin: `Authorization: Bearer ecl_...`. Errors "
                "are RFC 9457 problem documents (application/problem+json)."
            ),
        },
        "servers": [{"url": f"{site}/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": {**SCHEMAS, **_LIST},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "ecl_ token"}
            },
        },
        "security": [{"bearer": []}],
    }
