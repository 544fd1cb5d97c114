"""Forward stored xAPI statements to an external LRS through a persistent outbox.

Every statement is stored first (``xapi_statements``); the unsent ones are the outbox. A flush
posts them in batches to ``LRS_ENDPOINT``/statements with Basic auth and marks them sent only
after the LRS accepted them, so nothing is lost while the LRS is down: the batch waits, with an
exponential backoff per statement (30 s doubling, at most 6 h), and is retried by the next flush.

Nothing is stored twice either: each statement keeps the UUID it was created with, and an LRS
answers a re-sent id with "already stored" (ralph: the id is skipped, 204 when nothing was new;
409 when it differs). A crash between the LRS's answer and our commit therefore only causes a
harmless re-send.

Run ``flask --app app progress xapi-flush`` from cron; set ``LRS_FLUSH_AFTER_REQUEST=1`` to also
flush opportunistically (in a background thread, at most every 30 s per process) after requests
that recorded statements.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

import click
import requests
from flask import Flask, current_app, g
from sqlalchemy import func, or_, select

from lms.extensions import db
from lms.progress.cli import progress_cli
from lms.timeutil import utcnow
from lms.xapi.models import XapiStatement

BATCH = 50
BASE_BACKOFF = 30  # seconds
MAX_BACKOFF = 6 * 3600
TIMEOUT = 10


@dataclass(frozen=True)
class FlushResult:
    """Counts of xAPI statements sent, failed and still pending after a flush."""

    sent: int
    failed: int
    pending: int
    error: str = ""


def lrs_configured() -> bool:
    """Whether an external learning record store is configured."""
    return bool(current_app.config.get("LRS_ENDPOINT"))


def _statements_url() -> str:
    endpoint = current_app.config["LRS_ENDPOINT"].rstrip("/")
    return endpoint if endpoint.endswith("/statements") else endpoint + "/statements"


def _session() -> requests.Session:
    session = requests.Session()
    user, password = current_app.config.get("LRS_USERNAME"), current_app.config.get("LRS_PASSWORD")
    if user:
        session.auth = (user, password or "")
    session.headers.update(
        {"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}
    )
    return session


def pending_count() -> int:
    """Number of xAPI statements not yet sent to the LRS."""
    return (
        db.session.scalar(
            select(func.count(XapiStatement.id)).where(XapiStatement.sent_at.is_(None))
        )
        or 0
    )


def _due_batch(limit: int) -> list[XapiStatement]:
    now = utcnow()
    stmt = (
        select(XapiStatement)
        .where(
            XapiStatement.sent_at.is_(None),
            or_(XapiStatement.next_attempt_at.is_(None), XapiStatement.next_attempt_at <= now),
        )
        .order_by(XapiStatement.stored_at, XapiStatement.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # Two flushers (cron and an opportunistic one) take different rows.
        stmt = stmt.with_for_update(skip_locked=True)
    return list(db.session.scalars(stmt))


def _post(session: requests.Session, rows: list[XapiStatement]) -> requests.Response:
    body = "[" + ",".join(row.statement for row in rows) + "]"
    return session.post(_statements_url(), data=body.encode("utf-8"), timeout=TIMEOUT)


def _delivered(status: int) -> bool:
    # 200: stored (ids returned); 204: every id already stored; 409: an id exists (differing).
    return status in (200, 204, 409)


def _postpone(rows: list[XapiStatement], error: str) -> None:
    now = utcnow()
    for row in rows:
        row.attempts = (row.attempts or 0) + 1
        delay = min(BASE_BACKOFF * 2 ** (row.attempts - 1), MAX_BACKOFF)
        row.next_attempt_at = now + timedelta(seconds=delay)
        row.last_error = error[:500]


def flush_outbox(limit: int = 1000, ignore_backoff: bool = False) -> FlushResult:
    """Send up to ``limit`` due statements; commits after each batch. Stops when the LRS is down."""
    if not lrs_configured():
        return FlushResult(0, 0, pending_count(), "no LRS configured (LRS_ENDPOINT)")
    if ignore_backoff:
        db.session.execute(
            XapiStatement.__table__.update()
            .where(XapiStatement.sent_at.is_(None))
            .values(next_attempt_at=None)
        )
        db.session.commit()
    session = _session()
    sent = failed = 0
    error = ""
    while sent + failed < limit:
        rows = _due_batch(min(BATCH, limit - sent - failed))
        if not rows:
            break
        try:
            response = _post(session, rows)
        except requests.RequestException as exc:
            error = f"LRS unreachable: {exc.__class__.__name__}"
            _postpone(rows, error)
            db.session.commit()
            failed += len(rows)
            break  # the LRS is down: leave the rest for the next flush
        if response.status_code in (200, 204):
            now = utcnow()
            for row in rows:
                row.sent_at = now
                row.last_error = ""
            sent += len(rows)
        else:
            # Some statement in the batch was refused (or conflicts): settle them one by one.
            s, f, error = _send_one_by_one(session, rows)
            sent, failed = sent + s, failed + f
        db.session.commit()
        if error.startswith("LRS unreachable"):
            break
    return FlushResult(sent, failed, pending_count(), error)


def _send_one_by_one(session: requests.Session, rows: list[XapiStatement]) -> tuple[int, int, str]:
    sent = failed = 0
    error = ""
    for row in rows:
        try:
            response = _post(session, [row])
        except requests.RequestException as exc:
            error = f"LRS unreachable: {exc.__class__.__name__}"
            _postpone([row], error)
            failed += 1
            continue
        if _delivered(response.status_code):
            row.sent_at = utcnow()
            row.last_error = ""
            sent += 1
        else:
            error = f"LRS answered {response.status_code}: {response.text[:300]}"
            _postpone([row], error)
            failed += 1
    return sent, failed, error


@progress_cli.command("xapi-flush")
@click.option("--limit", default=10000, show_default=True, help="Most statements to send.")
@click.option("--now", "ignore_backoff", is_flag=True, help="Retry postponed statements now.")
def xapi_flush_command(limit: int, ignore_backoff: bool) -> None:
    """Send unsent xAPI statements to the configured LRS (safe to run from cron)."""
    if not lrs_configured():
        click.echo("No LRS configured (set LRS_ENDPOINT); statements stay stored locally.")
        return
    result = flush_outbox(limit=limit, ignore_backoff=ignore_backoff)
    click.echo(f"Sent {result.sent}, failed {result.failed}, pending {result.pending}.")
    if result.error:
        click.echo(f"Last error: {result.error}", err=True)
        raise SystemExit(1)


# --- opportunistic flush after requests -------------------------------------------------------
_last_flush = {"at": 0.0}
_flush_lock = threading.Lock()


def note_new_statement() -> None:
    """Called when a statement is recorded during a request."""
    g.xapi_recorded = True


def _flush_in_background(app: Flask) -> None:
    if not _flush_lock.acquire(blocking=False):
        return
    try:
        with app.app_context():
            try:
                flush_outbox(limit=BATCH * 4)
            except Exception:  # never let a background flush take the process down
                app.logger.exception("background xAPI flush failed")
                db.session.rollback()
            finally:
                db.session.remove()
    finally:
        _flush_lock.release()


def init_app(app: Flask) -> None:
    """Register the flush command and the optional after-request flush."""
    app.config.setdefault(
        "LRS_FLUSH_AFTER_REQUEST", os.environ.get("LRS_FLUSH_AFTER_REQUEST", "") in ("1", "true")
    )

    @app.teardown_request
    def _maybe_flush(exc) -> None:
        if exc is not None or not g.get("xapi_recorded"):
            return
        if not (app.config.get("LRS_FLUSH_AFTER_REQUEST") and app.config.get("LRS_ENDPOINT")):
            return
        now = time.monotonic()
        if now - _last_flush["at"] < 30:
            return
        _last_flush["at"] = now
        threading.Thread(target=_flush_in_background, args=(app,), daemon=True).start()
