"""The LTI 1.3 tool endpoints: OIDC login, launch, JWKS, deep linking, Dynamic Registration,
and the instructor's view of their platform course."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from pylti1p3.exception import LtiException, OIDCException

from lms.auth.sessions import start_session
from lms.errors import DomainError
from lms.extensions import db
from lms.links import activity_url, course_url

from . import deep_linking, keys, roster
from .models import LtiContext, LtiPlatform, LtiRole
from .registration import EduClusterRegistration, registration_token
from .services import accept_launch
from .tool import find_platform, message_launch, oidc_login

log = logging.getLogger(__name__)
bp = Blueprint("lti", __name__, url_prefix="/lti")
DEEP_LINK_SESSION = "lti_deep_link"

# The library's messages, in words a person can act on.
EXPLANATIONS = (
    ("expired", "The launch has expired. Go back to your course and open the item again."),
    ("State not found", "The launch did not start here or has already been used."),
    ("Invalid Nonce", "The launch was already used or did not start here."),
    ("Signature verification failed", "The launch was not signed by the registered platform."),
    ("Unable to find public key", "The launch was not signed by a key of the registered platform."),
    ("deployment ID", "This deployment of EduCluster is not registered for the platform."),
    ("Registration not found", "The platform or its client ID is not registered here."),
    ("registration details", "The platform or its client ID is not registered here."),
    ("Client id not registered", "The launch was meant for another tool (wrong audience)."),
    ("Could not find issuer", "The request did not say which platform sent it."),
    ("login hint", "The request did not say who is logging in."),
)


def explain(exc: Exception) -> str:
    """The library's refusal in words a person can act on."""
    text = str(exc)
    for marker, message in EXPLANATIONS:
        if marker.lower() in text.lower():
            return message
    return "The launch could not be verified."


def refused(message: str, status: int = 403):
    """The one page every refused launch shows; nothing was created."""
    db.session.rollback()
    return render_template("lti/refused.html", message=message), status


@bp.route("/login", methods=["GET", "POST"])
def login():
    """OIDC third-party initiated login: send the browser back to the platform to authenticate."""
    try:
        redirect_obj = oidc_login().get_redirect_object(url_for(".launch", _external=True))
        response = redirect_obj.do_redirect()
    except (OIDCException, LtiException) as exc:
        return refused(explain(exc), 400)
    db.session.commit()  # the state and nonce the launch will be checked against
    return response


@bp.post("/launch")
def launch():
    """A resource-link or deep-linking launch: every JWT check, then the person lands in place."""
    launch = message_launch()
    try:
        claims = launch.get_launch_data()
    except LtiException as exc:
        return refused(explain(exc))
    except (ValueError, TypeError, KeyError, AssertionError) as exc:  # malformed tokens
        log.info("LTI launch refused: %s", exc)
        return refused("The launch message is malformed.", 400)
    platform = find_platform(launch.get_iss(), launch.get_client_id())
    if platform is None:
        return refused("The platform is not registered here.")
    try:
        result = accept_launch(platform, claims)
    except DomainError as exc:
        return refused(exc.message, exc.status)
    start_session(result.user)  # a server-side login session, like a password login
    db.session.commit()
    if claims.get("https://purl.imsglobal.org/spec/lti/claim/message_type") == (
        "LtiDeepLinkingRequest"
    ):
        return _start_deep_linking(platform, claims)
    return _land(result)


def _start_deep_linking(platform, claims: dict):
    """Keep the platform's deep-linking settings in the session and open the content picker."""
    settings = dict(
        claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings") or {}
    )
    settings["deployment_id"] = claims.get(
        "https://purl.imsglobal.org/spec/lti/claim/deployment_id"
    )
    session[DEEP_LINK_SESSION] = {"platform_id": platform.id, "settings": settings}
    return redirect(url_for(".deep_link"))


def _land(result):
    """Send the launched person to the linked activity, course, or their dashboard."""
    if result.role == LtiRole.INSTRUCTOR and result.context is not None:
        flash("You opened this from your platform course as its instructor.", "info")
    target = (
        activity_url(result.course, result.activity)
        if result.activity
        else course_url(result.course)
    )
    return redirect(target or url_for("main.dashboard"))


@bp.get("/jwks")
def jwks():
    """The tool's public keys (the signing key and recently rotated ones)."""
    response = jsonify({"keys": keys.published_keys()})
    db.session.commit()  # the first key is made on first use
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _deep_link_state() -> tuple[LtiPlatform, dict]:
    state = session.get(DEEP_LINK_SESSION)
    if not isinstance(state, dict):
        abort(404)
    platform = db.session.get(LtiPlatform, state.get("platform_id"))
    if platform is None or not platform.active:
        abort(404)
    return platform, state["settings"]


@bp.route("/deep-link", methods=["GET", "POST"])
@login_required
def deep_link():
    """The instructor picks a course, a lab or a quiz; the platform receives a signed reply."""
    platform, settings = _deep_link_state()
    if request.method == "POST":
        try:
            token = deep_linking.response_jwt(
                platform, settings, request.form.get("item", ""), url_for(".launch", _external=True)
            )
        except DomainError as exc:
            flash(exc.message, "error")
            return redirect(url_for(".deep_link"))
        session.pop(DEEP_LINK_SESSION, None)
        return render_template(
            "lti/deep_link_return.html", url=settings["deep_link_return_url"], jwt=token
        )
    return render_template(
        "lti/deep_link.html", platform=platform, items=deep_linking.placeable_items(platform)
    )


@bp.route("/register/<token>", methods=["GET", "POST"])
def dynamic_registration(token: str):
    """LTI Dynamic Registration: the platform opens this one-time URL an admin gave it."""
    row = registration_token(token)
    if row is None:
        return refused(
            "This registration link is unknown, used or expired. Ask for a new one.", 404
        )
    config_url = request.args.get("openid_configuration", "")
    if not config_url.startswith(("https://", "http://")):
        return refused("Open this link from your platform's “register a tool by URL” page.", 400)
    flow = EduClusterRegistration(row, config_url, request.args.get("registration_token", ""))
    try:
        flow.register()
    except (LtiException, DomainError, AssertionError, ValueError, KeyError, OSError) as exc:
        log.info("LTI dynamic registration failed: %s", exc)
        message = getattr(exc, "message", "") or "The platform's registration did not complete."
        return refused(message, 400)
    db.session.commit()
    return render_template("lti/registered.html", platform=flow.platform)


# --- the instructor's view --------------------------------------------------------------------
@bp.get("/courses")
@login_required
def contexts():
    """The platform courses in which the current person is an instructor."""
    return render_template("lti/contexts.html", contexts=roster.instructor_contexts(current_user))


def _instructed_context(context_id: int) -> LtiContext:
    context = db.get_or_404(LtiContext, context_id)
    if not roster.is_instructor(current_user, context):
        abort(404)
    return context


@bp.get("/courses/<int:context_id>")
@login_required
def context_progress(context_id: int):
    """The platform course's learners and their progress in the linked EduCluster courses."""
    context = _instructed_context(context_id)
    courses, people = roster.context_progress(context)
    return render_template("lti/context.html", context=context, courses=courses, people=people)


@bp.post("/courses/<int:context_id>/sync")
@login_required
def sync(context_id: int):
    """Fetch the platform's roster (NRPS) now."""
    context = _instructed_context(context_id)
    try:
        count = roster.sync_roster(context)
    except (LtiException, ValueError, OSError) as exc:
        db.session.rollback()
        log.info("LTI roster sync failed: %s", exc)
        flash("The platform's roster could not be read. Try again later.", "error")
        return redirect(url_for(".context_progress", context_id=context.id))
    db.session.commit()
    flash(f"Roster synced: {count} people in “{context.title}”.", "success")
    return redirect(url_for(".context_progress", context_id=context.id))
