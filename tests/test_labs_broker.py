"""Reading which submissions already have a grading message in the Celery broker."""

from __future__ import annotations

import json
import os
import uuid

import pytest
from celery import Celery

from virtual_labs import broker
from virtual_labs.tasks import TASK_NAME

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/11")


def test_messages_are_matched_by_task_id_or_by_their_arguments():
    named = {"headers": {"task": TASK_NAME, "id": broker.task_id(42), "argsrepr": "[42]"}}
    older = {"headers": {"task": TASK_NAME, "id": str(uuid.uuid4()), "argsrepr": "(7,)"}}
    other = {"headers": {"task": "something.else", "id": broker.task_id(9)}}
    assert broker._parse(json.dumps(named), TASK_NAME) == 42
    assert broker._parse(json.dumps(older), TASK_NAME) == 7
    assert broker._parse(json.dumps(other), TASK_NAME) is None
    assert broker._parse(json.dumps([named, "", "labs"]), TASK_NAME, reserved_from="labs") == 42
    # Reserved from another queue of the same Redis (another site, another test): not ours.
    assert broker._parse(json.dumps([named, "", "other"]), TASK_NAME, reserved_from="labs") is None
    assert broker._parse("not json", TASK_NAME) is None


def test_a_broker_that_cannot_be_browsed_answers_none(monkeypatch):
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)  # Celery lets it override broker=
    assert broker.held_submission_ids(Celery("t", broker="memory://"), "labs", TASK_NAME) is None


@pytest.mark.celery
def test_waiting_messages_in_redis_are_found_without_taking_them():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except Exception as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
    queue = f"labs-broker-test-{uuid.uuid4().hex[:8]}"
    app = Celery("t", broker=REDIS_URL)
    try:
        for submission_id, priority in ((3, None), (5, 9)):
            app.send_task(
                TASK_NAME,
                args=[submission_id],
                task_id=broker.task_id(submission_id),
                queue=queue,
                priority=priority,
            )
        assert broker.held_submission_ids(app, queue, TASK_NAME) == {3, 5}
        assert broker.held_submission_ids(app, queue, TASK_NAME) == {3, 5}  # still there
    finally:
        client.delete(queue, *client.keys(f"{queue}*"))
