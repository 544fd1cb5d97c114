"""Domain errors and the error pages: HTML for people, problem+json for the API."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from lms.extensions import db

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule of the domain was broken; the message is written for the user."""

    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidFields(DomainError):
    """Several fields are wrong at once: ``errors`` holds one :class:`DomainError` per problem,
    so a form can show them all in one go (the first is also this error's message)."""

    def __init__(self, errors: list[DomainError]) -> None:
        super().__init__(errors[0].message, field=errors[0].field)
        self.errors = errors


class NotAllowed(DomainError):
    """Domain error for an action the user may not take (403)."""

    status = 403


class Conflict(DomainError):
    """Domain error for an action that clashes with the current state (409)."""

    status = 409


def wants_json() -> bool:
    """API paths, ``*.json`` documents and clients that accept JSON but not HTML."""
    return (
        request.path.startswith("/api/")
        or request.path.endswith(".json")
        or (
            request.accept_mimetypes.best == "application/json"
            and not request.accept_mimetypes.accept_html
        )
    )


def problem(status: int, title: str, detail: str = "", **extra) -> tuple:
    """An RFC 9457 problem document."""
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


MESSAGES = {
    400: ("Bad request", "The request could not be understood. Check the form and try again."),
    403: ("Not allowed", "You do not have permission to do this."),
    404: ("Page not found", "The page you asked for does not exist or is not visible to you."),
    405: ("Method not allowed", "This address does not accept that kind of request."),
    413: ("Too large", "The upload is larger than the site allows."),
    429: ("Too many requests", "Please wait a moment before trying again."),
    500: ("Something went wrong", "An unexpected error happened. It has been logged."),
}


def handle_http(exc: HTTPException):
    """Error page or JSON problem for an HTTP error."""
    code = exc.code or 500
    title, default = MESSAGES.get(code, (exc.name, exc.description or ""))
    detail = default
    # CSRF failures and explicit aborts carry a useful description; generic ones do not.
    if exc.description and code in (400, 429) and exc.description != type(exc).description:
        detail = exc.description
    if wants_json():
        return problem(code, title, detail)
    return render_template("errors/error.html", code=code, title=title, detail=detail), code


def handle_domain(exc: DomainError):
    """Error page or JSON problem for a refused domain action."""
    if wants_json():
        return problem(exc.status, "Request refused", exc.message)
    return (
        render_template(
            "errors/error.html", code=exc.status, title="Request refused", detail=exc.message
        ),
        exc.status,
    )


def handle_unexpected(exc: Exception):
    """Log an unhandled exception and answer a 500 page or problem."""
    log.exception("Unhandled error on %s %s", request.method, request.path)
    # A failed statement leaves the transaction aborted (PostgreSQL refuses every later query);
    # roll back so the error page itself can load the signed-in user's navigation.

    try:
        db.session.rollback()
    except Exception:  # the connection itself may be gone; the page must still render
        log.exception("Rollback after an unhandled error failed")
    return handle_http(InternalServerError())


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(DomainError, handle_domain)
    app.register_error_handler(Exception, handle_unexpected)
