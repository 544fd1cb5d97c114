"""Security headers on every response, and what may be cached."""

from __future__ import annotations

from flask import Flask, Response, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import SecurityError

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def set_security_headers(response: Response) -> Response:
    """Add CSP, framing, sniffing and referrer headers to every response."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    # Pages are made for one person (names, grades, exports, CSRF tokens), so no cache, shared or
    # not, may keep them (Moodle does the same for logged-in pages). Responses that are safe to
    # cache say so themselves: static files, the public signing keys, a course's own files.
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        _mark_cookies_secure(response)
    return response


def _mark_cookies_secure(response: Response) -> None:
    """Over HTTPS every cookie we set (session, remember-me) gets the Secure flag.

    Done per response rather than by flipping ``SESSION_COOKIE_SECURE`` at run time, which would
    leak into later plain-http requests of the same process (e.g. localhost health checks).
    """
    cookies = response.headers.getlist("Set-Cookie")
    if not cookies:
        return
    response.headers.remove("Set-Cookie")
    for cookie in cookies:
        if "; secure" not in cookie.lower():
            cookie += "; Secure"
        response.headers.add("Set-Cookie", cookie)


def refuse_untrusted_host(exc: SecurityError) -> Response:
    """400 for a ``Host`` outside ``TRUSTED_HOSTS``, as plain text.

    No page template: nothing can build links for a host the site does not answer to.
    """
    return Response(
        "Bad request: this site does not answer to that host name. Use the address in SITE_URL, "
        "or ask the administrator to add the name to TRUSTED_HOSTS.\n",
        400,
        mimetype="text/plain",
    )


def init_app(app: Flask) -> None:
    """Install the security headers, host check and secure-cookie session."""
    app.register_error_handler(SecurityError, refuse_untrusted_host)
    # after_request functions run in reverse order of registration: put ours first in the list so
    # it runs last and also sees the remember-me cookie Flask-Login sets in its own hook.
    app.after_request_funcs.setdefault(None, []).insert(0, set_security_headers)
    # The session cookie is written after every after_request hook, so it decides for itself.
    app.session_interface = HttpsAwareSessionInterface()


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions whose cookie is Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure cookies when configured or when the request came over HTTPS."""
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)
