"""The Jobe REST API at ``/jobe/index.php/restapi``: languages, runs and support files.

Clients (CodeRunner) authenticate with ``X-API-KEY``. Errors are problem+json documents with
the HTTP status Jobe uses: 400 for a request it cannot run, 401/403 for a missing or unknown
key, 404 for a support file that was never PUT, 429 when the key's hourly budget is spent.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import subprocess
from datetime import timedelta
from functools import cache, wraps

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge

from lms.errors import problem
from lms.extensions import db
from lms.timeutil import utcnow
from virtual_labs.languages import LANGUAGES

from . import keys, runner
from .models import JobeFile
from .spec import FILE_ID, JOBE_LANGUAGES, JobeError, bad, parse_run_spec

bp = Blueprint("jobe", __name__, url_prefix="/jobe/index.php/restapi")

DEFAULTS = {
    "LAB_JOBE_REQUIRE_KEY": True,
    "LAB_JOBE_MAX_SOURCE_KB": 1024,  # sourcecode and input, each
    "LAB_JOBE_MAX_FILE_KB": 4096,  # one support file
    "LAB_JOBE_MAX_BODY_KB": 8192,  # a whole request body
    "LAB_JOBE_FILE_DAYS": 7,  # support files unused this long are purged
    "LAB_JOBE_WAIT_SECONDS": 30.0,  # longest wait for a sandbox slot before answering 21
}
VERSION_COMMANDS = {
    "python3": ("--version",),
    "c": ("-dumpfullversion",),
    "cpp": ("-dumpfullversion",),
    "nodejs": ("--version",),
    "java": ("-version",),
}


@bp.errorhandler(JobeError)
def _jobe_error(exc: JobeError):
    titles = {400: "Bad request", 401: "API key required", 403: "Forbidden", 404: "Not found"}
    return problem(exc.status, titles.get(exc.status, "Error"), exc.message)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge):
    # Jobe answers an oversized request like any other it cannot run: 400, saying why.
    return problem(400, "Bad request", "The request body is larger than this server accepts.")


def _setting(name: str):
    return current_app.config.get(name, DEFAULTS[name])


def key_required(view):
    """Check ``X-API-KEY`` (unless the site turned keys off); sets ``g.jobe_key``."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        """Check the X-API-KEY header (when keys are required) before the Jobe endpoint runs."""
        g.jobe_key = None
        if _setting("LAB_JOBE_REQUIRE_KEY"):
            secret = request.headers.get("X-API-KEY", "").strip()
            if not secret:
                raise JobeError(401, "Send the API key the site admin issued as X-API-KEY.")
            g.jobe_key = keys.find_key(secret)
            if g.jobe_key is None:
                raise JobeError(403, "The API key is unknown or has been revoked.")
        return view(*args, **kwargs)

    return wrapper


def _json_body() -> object:
    limit = int(_setting("LAB_JOBE_MAX_BODY_KB")) * 1024
    if request.content_length is not None and request.content_length > limit:
        raise bad(f"The request body is larger than {limit // 1024} KB.")
    try:
        data = request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise bad(f"The request body is larger than {limit // 1024} KB.") from None
    if len(data) > limit:
        raise bad(f"The request body is larger than {limit // 1024} KB.")
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise bad("The body is not valid JSON.") from None


@cache
def _version(jobe_id: str, binary: str) -> str:
    try:
        out = subprocess.run(
            [binary, *VERSION_COMMANDS[jobe_id]], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    match = re.search(r"(\d+(?:\.\d+)+)", out.stdout or out.stderr)
    return match.group(1) if match else "unknown"


def available_languages() -> dict[str, str]:
    """Jobe ids of the lab languages installed here, mapped to the lab language key."""
    return {jid: key for jid, key in JOBE_LANGUAGES.items() if LANGUAGES[key].available}


@bp.get("/languages")
@key_required
def languages():
    """[language_id, version] pairs, as Jobe lists them."""
    pairs = []
    for jobe_id, key in available_languages().items():
        lang = LANGUAGES[key]
        binary = (lang.compile or lang.run)[0]
        if jobe_id == "java":
            binary = lang.run[0]
        pairs.append([jobe_id, _version(jobe_id, binary)])
    return jsonify(pairs)


def _load_files(file_list) -> dict[str, bytes]:
    ids = {file_id for file_id, _ in file_list}
    found = {
        row.file_id: row.content
        for row in db.session.scalars(select(JobeFile).where(JobeFile.file_id.in_(ids)))
    }
    missing = ids - set(found)
    if missing:
        raise JobeError(
            404, f"One or more of the specified files is missing: {', '.join(sorted(missing))}."
        )
    return {name: found[file_id] for file_id, name in file_list}


@bp.route("/runs/", methods=["POST"], strict_slashes=False)
@key_required
def runs():
    """Run a program once and answer {run_id, outcome, cmpinfo, stdout, stderr}."""
    spec = parse_run_spec(
        _json_body(),
        available=available_languages(),
        default_files={j: LANGUAGES[k].source_file for j, k in JOBE_LANGUAGES.items()},
        max_source_bytes=int(_setting("LAB_JOBE_MAX_SOURCE_KB")) * 1024,
    )
    files = _load_files(spec.file_list)
    total = len(spec.sourcecode.encode()) + sum(len(c) for c in files.values())
    if total > 8 * 1024 * 1024:
        raise bad("The source and support files together are larger than 8 MB.")
    if g.jobe_key is not None and not keys.spend_run(g.jobe_key.id):
        db.session.rollback()
        response = problem(
            429,
            "Hourly limit reached",
            f"This API key may start {g.jobe_key.hourly_limit} runs an hour.",
        )
        response.headers["Retry-After"] = str(keys.seconds_to_next_hour())
        return response
    # Commit before the run: no transaction (or SQLite write lock) is held while code runs.
    db.session.commit()
    from virtual_labs.views import sandbox_state  # the labs' cached sandbox check

    ok, message = sandbox_state()
    if not ok:
        return jsonify(runner.result(runner.INTERNAL_ERROR, stderr=message))
    app = current_app._get_current_object()
    return jsonify(runner.run_job(app, spec, files))


def _file_id(file_id: str) -> str:
    if not FILE_ID.match(file_id):
        raise bad("A file id is 1-64 letters, digits, '.', '_' or '-'.")
    return file_id


@bp.route("/files/<file_id>", methods=["HEAD"])
@key_required
def file_exists(file_id: str):
    """204 when the file was PUT here, 404 when not."""
    found = db.session.get(JobeFile, _file_id(file_id)) is not None
    return "", 204 if found else 404


@bp.route("/files/<file_id>", methods=["PUT"])
@key_required
def put_file(file_id: str):
    """Store a support file sent as {"file_contents": base64}."""
    file_id = _file_id(file_id)
    body = _json_body()
    if not isinstance(body, dict) or not isinstance(body.get("file_contents"), str):
        raise bad('The body must be {"file_contents": "<base64>"}.')
    try:
        content = base64.b64decode(body["file_contents"], validate=True)
    except (binascii.Error, ValueError):
        raise bad("file_contents is not valid base64.") from None
    limit = int(_setting("LAB_JOBE_MAX_FILE_KB")) * 1024
    if len(content) > limit:
        raise bad(f"The file is larger than {limit // 1024} KB.")
    cutoff = utcnow() - timedelta(days=float(_setting("LAB_JOBE_FILE_DAYS")))
    db.session.execute(delete(JobeFile).where(JobeFile.created_at < cutoff))
    row = db.session.get(JobeFile, file_id)
    if row is None:
        db.session.add(JobeFile(file_id=file_id, content=content, size=len(content)))
    else:
        row.content, row.size, row.created_at = content, len(content), utcnow()
    try:
        db.session.commit()
    except IntegrityError:  # the same id PUT twice at once: one of them stored it
        db.session.rollback()
    return "", 204
