"""Bearer-token authentication for /api/v1 and the problem+json error helpers."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request

from lms.api.models import ApiToken
from lms.api.tokens import authenticate
from lms.errors import problem
from lms.extensions import db
from lms.permissions import can
from lms.urls import MAX_SQL_INTEGER


class ApiError(Exception):
    """Raised inside API views; rendered as application/problem+json."""

    def __init__(self, status: int, title: str, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra


def render_api_error(exc: ApiError):
    """JSON problem response for an API error, with the Bearer challenge on 401."""
    response = problem(exc.status, exc.title, exc.detail, **exc.extra)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = (
            'Bearer realm="EduCluster API", error="invalid_token"'
        )
    return response


def bad_request(detail: str, parameter: str) -> ApiError:
    """API error for an invalid query parameter."""
    return ApiError(400, "Invalid parameter", detail, parameter=parameter)


def not_found(detail: str = "No such resource in your organization.") -> ApiError:
    """API error for a resource outside the token's organization."""
    return ApiError(404, "Not found", detail)


def token_required(view: Callable) -> Callable:
    """Authenticate ``Authorization: Bearer <token>``; sets ``g.api_token``."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        """Authenticate the Bearer token before running the API view."""
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise ApiError(
                401,
                "Authentication required",
                "Send Authorization: Bearer <personal access token>.",
            )
        token = authenticate(secret.strip())
        if token is None:
            raise ApiError(401, "Invalid token", "The token is unknown or has been revoked.")
        creator = token.created_by
        # A token acts for the person who made it: when they lose HR rights, it stops working.
        if creator is None or not can(creator, "org.manage_tokens", token.organization_id):
            db.session.commit()
            raise ApiError(
                403,
                "Token no longer authorised",
                "The person who created this token no longer manages this organization.",
            )
        db.session.commit()  # persists last_used_at (written at most once a minute)
        g.api_token = token
        return view(*args, **kwargs)

    return wrapper


def current_token() -> ApiToken:
    """The API token that authenticated the current request."""
    return g.api_token


def int_arg(name: str, default: int | None = None, lo: int = 1, hi: int = 10**9) -> int | None:
    """Integer query parameter within bounds, or a 400 API error."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer.", name) from None
    if not lo <= value <= hi:
        raise bad_request(f"{name} must be between {lo} and {hi}.", name)
    return value


def encode_cursor(payload: dict) -> str:
    """Opaque URL-safe pagination cursor for the next API page."""
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def cursor_position(cursor: dict | None, key: str, name: str = "cursor") -> int | None:
    """The id or sequence number a cursor of this API holds (None without a cursor).

    Anything else (a string, a bool, a number no INTEGER column holds) is a 400: a forged huge
    number used to reach the database and fail there with a 500 on PostgreSQL.
    """
    if cursor is None:
        return None
    value = cursor.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SQL_INTEGER:
        raise bad_request("The cursor is not one this API returned.", name)
    return value


def decode_cursor(name: str = "cursor") -> dict | None:
    """Pagination cursor from the query string, or a 400 API error if it is forged."""
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        padded = raw + "=" * (-len(raw) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad_request("The cursor is not one this API returned.", name) from None
    if not isinstance(data, dict):
        raise bad_request("The cursor is not one this API returned.", name)
    return data
