"""What the Celery broker holds: which submissions already have a grading message.

A worker that starts (and every sweep) must send again only the queued submissions that have no
message left anywhere: never sent (the broker was down, the web process died between its commit
and its send) or lost (a broker restarted without persistence). Everything else would only make
a duplicate task that finds the submission done and is skipped.

With the Redis transport the messages can be read without taking them: waiting ones in the
queue's lists (one per priority step) and reserved ones in the ``unacked`` hash. Other brokers
cannot be browsed; :func:`held_submission_ids` then answers ``None`` and every queued
submission counts as orphaned (the old, safe behaviour).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

from celery import Celery

log = logging.getLogger(__name__)
TASK_ID_PREFIX = "lab-submission-"
_TASK_ID = re.compile(rf"^{TASK_ID_PREFIX}(\d+)-")
_ARGSREPR = re.compile(r"^[\[(](\d+),?[\])]$")


def task_id(submission_id: int) -> str:
    """A task id naming its submission, so a message can be matched without decoding it."""
    return f"{TASK_ID_PREFIX}{submission_id}-{uuid.uuid4().hex[:12]}"


def _submission_of(message: Any, task_name: str) -> int | None:
    headers = message.get("headers") if isinstance(message, dict) else None
    if not isinstance(headers, dict) or headers.get("task") != task_name:
        return None
    match = _TASK_ID.match(str(headers.get("id") or "")) or _ARGSREPR.match(
        str(headers.get("argsrepr") or "").replace(" ", "")
    )
    return int(match.group(1)) if match else None


def held_submission_ids(celery_app: Celery, queue: str, task_name: str) -> set[int] | None:
    """Ids of the submissions with a message in the broker (waiting or reserved by a worker).

    ``None`` when the broker cannot be browsed (not Redis) or cannot be reached.
    """
    try:
        with celery_app.connection_for_read() as conn:
            channel = conn.default_channel
            steps = getattr(channel, "priority_steps", None)
            unacked_key = getattr(channel, "unacked_key", None)
            if steps is None or unacked_key is None or not hasattr(channel, "conn_or_acquire"):
                return None
            # The Redis transport keeps priority p > 0 of queue q in the list "q<sep>p".
            keys = [queue if not pri else f"{queue}{channel.sep}{pri}" for pri in steps]
            with channel.conn_or_acquire() as client:
                waiting = [item for key in keys for item in client.lrange(key, 0, -1)]
                reserved = client.hvals(unacked_key)
    except Exception:  # an unreachable broker: the caller falls back to sending everything
        log.exception("could not read the lab queue %r in the Celery broker", queue)
        return None
    held: set[int] = set()
    for raw in waiting:
        held.add(_parse(raw, task_name))
    for raw in reserved:
        held.add(_parse(raw, task_name, reserved_from=queue))
    held.discard(None)
    return held


def _parse(raw: bytes | str, task_name: str, reserved_from: str | None = None) -> int | None:
    """The submission id of a message; ``reserved_from``: the message is a reserved entry,
    ``[message, exchange, routing key]``, that counts only when taken from that queue (the
    reserved entries of every queue of the broker share one hash)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if reserved_from is not None:
        if not isinstance(data, list) or len(data) < 3 or reserved_from not in data[1:3]:
            return None
        data = data[0]
    return _submission_of(data, task_name)
