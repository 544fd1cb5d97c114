"""The Celery worker's entry point: ``celery -A virtual_labs.worker worker``.

As in the Flask docs' Celery pattern, the worker builds the Flask app (configured from the same
environment as the web app: ``DATABASE_URL``, ``CELERY_BROKER_URL``, ``LMS_INSTANCE_PATH``...)
and every task runs inside its app context. When a worker starts, and then every
``LAB_STALE_SECONDS``, it takes back the runs whose worker stopped its heartbeat and sends again
the queued submissions the broker holds no message for (see ``virtual_labs.broker``), so work
left by a crashed worker or a lost message is never lost, and nothing is sent twice.
"""

from __future__ import annotations

import logging
import threading
import time

from celery.signals import worker_ready

from lms import create_app
from lms.extensions import db
from virtual_labs.tasks import celery_init_app, requeue_pending

log = logging.getLogger(__name__)

flask_app = create_app()
celery_app = flask_app.extensions.get("celery") or celery_init_app(flask_app)
celery = celery_app  # the name `celery -A virtual_labs.worker` looks for


def _sweep_forever(interval: float) -> None:
    """Every ``interval`` seconds, take back the work of workers that died mid-run."""
    while True:
        time.sleep(interval)
        try:
            with flask_app.app_context():
                sent = requeue_pending(flask_app)
                if sent:
                    log.warning("Sent %d lab submissions left by a dead worker or lost.", sent)
        except Exception:  # a database or broker hiccup must not end the sweeper
            log.exception("Sweeping stale lab submissions failed; trying again later.")
            with flask_app.app_context():
                db.session.rollback()


@worker_ready.connect
def _recover_on_start(sender=None, **kwargs) -> None:
    with flask_app.app_context():
        requeue_pending(flask_app)
    interval = max(1.0, float(flask_app.config.get("LAB_STALE_SECONDS", 60.0)))
    threading.Thread(
        target=_sweep_forever, args=(interval,), name="lab-stale-sweep", daemon=True
    ).start()
