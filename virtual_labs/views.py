"""The labs blueprint, learner side: run and submit code, follow the status, see results.

Authoring pages live in ``views_authoring`` on the same blueprint.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup

from lms.errors import DomainError, problem
from lms.extensions import db
from lms.links import activity_url, course_url
from lms.markup import render_markdown
from lms.models import User
from lms.permissions import can, require
from lms.progress.access import ENROL_FIRST, activity_access
from virtual_labs import services
from virtual_labs.executors import dispatch_submission
from virtual_labs.models import Lab, LabSubmission, SubmissionKind
from virtual_labs.output_diff import diff_output
from virtual_labs.sandbox import sandbox_status

bp = Blueprint(
    "labs",
    __name__,
    url_prefix="/labs",
    static_folder="static",
    static_url_path="/static",
)

# --- sandbox availability (cached: the check may run a self-test) ------------------------------
_state_lock = threading.Lock()
_state: dict[str, Any] = {"at": 0.0, "value": (False, "")}
STATE_TTL = 30.0


def sandbox_state() -> tuple[bool, str]:
    """(ok, message) from the sandbox's own check, cached for a few seconds per process."""
    with _state_lock:
        if time.monotonic() - _state["at"] < STATE_TTL and _state["at"]:
            return _state["value"]
    try:
        value = sandbox_status()
    except Exception as exc:  # an import or check failure means: do not run anything
        value = (False, f"The sandbox check failed: {exc}")
    with _state_lock:
        _state.update(at=time.monotonic(), value=value)
    return value


def reset_sandbox_state() -> None:
    """Forget the cached sandbox check so the next page checks again."""
    with _state_lock:
        _state.update(at=0.0, value=(False, ""))


# --- helpers -----------------------------------------------------------------------------------
def get_lab_or_404(lab_id: int) -> Lab:
    """Lab the current user may view, or 404."""
    lab = db.get_or_404(Lab, lab_id)
    require("course.view", lab.course, hide=True)
    return lab


def lab_page_url(lab: Lab) -> str:
    """The course's activity page (with course navigation), else our standalone page."""
    return activity_url(lab.course, lab) or url_for("labs.show", lab_id=lab.id)


def course_overview_url(lab: Lab) -> str:
    """The course's overview page (where one enrols), else the dashboard."""
    return course_url(lab.course) or url_for("main.dashboard")


def editor_mode(language: str) -> str:
    """Code editor mode of a language."""
    try:
        return services.language_entry(language).editor_mode
    except KeyError:
        return "text/plain"


def language_label(language: str) -> str:
    """Human label of a language."""
    try:
        return services.language_entry(language).label
    except KeyError:
        return language


def submission_view(sub: LabSubmission, viewer: User | None = None) -> dict[str, Any]:
    """What the result fragment shows; hidden tests keep only their name and pass/fail."""
    report = sub.report or {}
    tests = []
    for t in report.get("tests", []):
        item = {
            "name": t.get("name"),
            "verdict": t.get("verdict"),
            "passed": bool(t.get("passed")),
            "hidden": bool(t.get("hidden")),
            "weight": t.get("weight"),
        }
        if not item["hidden"]:
            item.update(
                expected=t.get("expected"),
                actual=t.get("actual"),
                message=t.get("message") or "",
                diff=diff_output(t.get("expected"), t.get("actual"))
                if not t.get("passed")
                else None,
            )
        tests.append(item)
    what = "Run" if sub.kind == SubmissionKind.RUN else "Submission"
    return {
        "sub": sub,
        "title": f"{what} #{sub.id}",
        "actual_label": "Your output",
        "kind": sub.kind,
        "tag": sub.display_status,
        "score": sub.score,
        "pending": sub.pending,
        "error": sub.error if sub.status == "error" else "",
        "tests": tests,
        "compile_output": report.get("compile_output") or "",
        "passed": sum(1 for t in tests if t["passed"]),
    }


def lab_context(lab: Lab, user: User) -> dict[str, Any]:
    """Everything the lab's main column needs (``labs/_lab.html``)."""
    ok, message = sandbox_state()
    history, best = services.history_and_best(lab, user)
    pending = next((s for s in history if s.pending), None)
    finished = next((s for s in history if not s.pending), None)
    return {
        "lab": lab,
        "instructions": render_markdown(lab.instructions),
        "files": services.latest_files(lab, user, history),
        "mode": editor_mode(lab.language),
        "language_label": language_label(lab.language),
        "history": history,
        "best": best,
        "refusal": services.submission_refusal(user, lab),
        "sandbox_ok": ok,
        "sandbox_message": message,
        "is_author": services.is_lab_author(user, lab),
        "is_admin": can(user, "site.admin"),
        "pending": pending,
        "latest": submission_view(finished) if finished else None,
        "visible_count": len(lab.visible_tests),
        "hidden_count": len(lab.tests) - len(lab.visible_tests),
    }


def _wants_json() -> bool:
    return (
        request.accept_mimetypes.best == "application/json"
        or request.headers.get("X-Requested-With") == "fetch"
    )


def submission_payload(sub: LabSubmission) -> dict[str, Any]:
    """JSON of a submission for the lab page's polling."""
    tag_status = sub.display_status
    payload = {
        "id": sub.id,
        "kind": sub.kind,
        "status": sub.status,
        "verdict": sub.verdict,
        "score": sub.score,
        "done": not sub.pending,
        "status_text": _status_text(sub),
        "tag": tag_status,
        "url": url_for("labs.submission", submission_id=sub.id),
        "json_url": url_for("labs.submission_json", submission_id=sub.id),
    }
    if not sub.pending:
        payload["html"] = render_template("labs/_result.html", r=submission_view(sub))
        payload["history_html"] = render_template(
            "labs/_history.html",
            history=services.submission_history(sub.lab, sub.user),
            best=services.best_score(sub.lab, sub.user),
        )
        payload["best_score"] = services.best_score(sub.lab, sub.user)
    return payload


def _status_text(sub: LabSubmission) -> str:
    what = "Run" if sub.kind == SubmissionKind.RUN else "Submission"
    if sub.status == "queued":
        return f"{what} #{sub.id} is queued: it will start in a moment."
    if sub.status == "running":
        return f"{what} #{sub.id} is running the tests…"
    if sub.status == "error":
        return f"{what} #{sub.id} could not be checked. {sub.error}".strip()
    score = f"{sub.score:.0f}%" if sub.score is not None else "no score"
    return f"{what} #{sub.id} finished: {sub.verdict.replace('_', ' ')}, {score}."


def _can_see_submission(sub: LabSubmission) -> bool:
    return sub.user_id == current_user.id or can(current_user, "course.manage", sub.lab.course)


# --- learner routes ----------------------------------------------------------------------------
@bp.route("/<int:lab_id>")
@login_required
def show(lab_id: int):
    """The lab on its own page (the course's activity page shows the same column)."""
    lab = get_lab_or_404(lab_id)
    # The same rule as the course's activity page: instructions and starter code are for the
    # course team and for enrolled learners whose restrict-access locks are all met.
    access = activity_access(current_user, lab)
    if not access.staff and not access.enrolled:
        flash(ENROL_FIRST, "info")
        return redirect(course_overview_url(lab))
    body = None
    if access.refusal is None:
        body = Markup(render_template("labs/_lab.html", **lab_context(lab, current_user)))
    return render_template("labs/show.html", lab=lab, body=body, reasons=access.reasons)


@bp.route("/<int:lab_id>/submissions", methods=["POST"])
@login_required
def create_submission(lab_id: int):
    """Queue the editor's code: ``kind=run`` (visible tests) or ``kind=submit`` (graded)."""
    lab = get_lab_or_404(lab_id)
    kind = request.form.get("kind", "submit")
    try:
        _check_can_run(lab, kind)
        sub = services.enqueue_submission(lab, current_user, _posted_files(), kind)
    except DomainError as exc:
        db.session.rollback()
        if _wants_json():
            return problem(exc.status, "Not run", exc.message)
        flash(exc.message, "error")
        return redirect(lab_page_url(lab))
    db.session.commit()

    dispatch_submission(current_app._get_current_object(), sub.id)
    db.session.expire_all()
    sub = db.session.get(LabSubmission, sub.id)
    if _wants_json():
        return jsonify(submission_payload(sub)), 202
    return redirect(url_for("labs.submission", submission_id=sub.id))


def _check_can_run(lab, kind: str) -> None:
    """Raise the reason this run cannot be queued: an unknown kind, no sandbox, or a refusal."""
    if kind not in (SubmissionKind.RUN, SubmissionKind.SUBMIT):
        raise DomainError("Choose Run or Submit.")
    ok, _ = sandbox_state()
    if not ok:
        raise services.LabUnavailable(
            "Labs are temporarily unavailable: code cannot be run right now. "
            "Your code is kept in the editor; please try again later."
        )
    refusal = services.submission_refusal(current_user, lab)
    if refusal:
        raise services.NotAllowedToSubmit(refusal)


def _posted_files() -> dict[str, str]:
    """The editor's files, posted as ``file:<name>`` fields."""
    return {
        key[len("file:") :]: value for key, value in request.form.items() if key.startswith("file:")
    }


@bp.route("/submissions/<int:submission_id>.json")
@login_required
def submission_json(submission_id: int):
    """JSON endpoint the lab page polls for a submission's state and results."""
    sub = db.session.get(LabSubmission, submission_id)
    if sub is None or not _can_see_submission(sub):
        return problem(404, "Not found", "No such submission.")
    return jsonify(submission_payload(sub))


@bp.route("/submissions/<int:submission_id>")
@login_required
def submission(submission_id: int):
    """One submission: its status or results, and the code that was sent."""
    sub = db.get_or_404(LabSubmission, submission_id)
    if not _can_see_submission(sub):
        abort(404)
    return render_template(
        "labs/submission.html",
        lab=sub.lab,
        back_url=lab_page_url(sub.lab),
        mode=editor_mode(sub.lab.language),
        payload=submission_payload(sub),
        r=submission_view(sub),
    )


from virtual_labs import views_authoring  # noqa: E402,F401  (registers the authoring routes)
