"""The Celery worker's entry point: ``celery -A virtual_labs.worker worker``.

As in the Flask docs' Celery pattern, the worker builds the Flask app (configured from the same
environment as the web app: ``DATABASE_URL``, ``CELERY_BROKER_URL``, ``LMS_INSTANCE_PATH``...)
and every task runs inside its app context. When a worker starts it puts stale runs back in the
queue and re-sends queued submissions, so work left by a crashed worker is never lost.
"""

from __future__ import annotations

from celery.signals import worker_ready

from lms import create_app
from virtual_labs.tasks import celery_init_app, requeue_pending

flask_app = create_app()
celery_app = flask_app.extensions.get("celery") or celery_init_app(flask_app)
celery = celery_app  # the name `celery -A virtual_labs.worker` looks for


@worker_ready.connect
def _recover_on_start(sender=None, **kwargs) -> None:
    with flask_app.app_context():
        requeue_pending(flask_app)
