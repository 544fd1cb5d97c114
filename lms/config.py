"""Configuration from environment variables, with documented defaults (see README)."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_or_create_secret_key(instance_path: str) -> str:
    """Return the site's secret key, generating one in ``instance/`` on first run.

    A constant key in the code would let anyone forge sessions; a key regenerated at each start
    would log everybody out, so it is kept beside the database.
    """
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # O_EXCL: two workers starting together must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def normalise_database_url(url: str) -> str:
    """Accept the common ``postgres://`` and ``postgresql://`` forms and use the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def trusted_hosts(value: str | None, site_url: str) -> list[str] | None:
    """Host names the site answers to (Flask's ``TRUSTED_HOSTS``); ``*`` accepts any.

    By default: the host of ``SITE_URL``, plus the loopback names used by health checks and by
    ``make run``. Links never come from the ``Host`` header (they come from ``SITE_URL``); refusing
    unknown hosts is a second wall, and keeps the site from answering under someone else's name.
    """
    if value and value.strip() == "*":
        return None
    if value and value.strip():
        return [h.strip() for h in value.split(",") if h.strip()]
    own = urlsplit(site_url).hostname
    return list(dict.fromkeys([h for h in (own, "localhost", "127.0.0.1") if h]))


def _lab_settings(env) -> dict:
    """Where and how lab submissions are graded (see virtual_labs/executors.py)."""
    return {
        "LAB_EXECUTOR": env.get("LAB_EXECUTOR", "local"),
        "CELERY_BROKER_URL": env.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"),
        "CELERY_RESULT_BACKEND": env.get("CELERY_RESULT_BACKEND") or None,
        "LAB_WORKERS": int(env.get("LAB_WORKERS") or os.cpu_count() or 1),
        # Most submissions a local pool thread claims at once: its share of a full queue.
        "LAB_BATCH": int(env.get("LAB_BATCH") or 16),
    }


def config_from_env(instance_path: str) -> dict:
    """Build the configuration mapping from the environment."""
    env = os.environ
    default_db = "sqlite:///" + str(Path(instance_path) / "educluster.sqlite3")
    # The public address of every link in mails, certificates, credentials and statements. Unset,
    # it follows PORT, so `PORT=5101 make run` prints addresses that work on that port.
    site_url = (env.get("SITE_URL") or f"http://127.0.0.1:{env.get('PORT') or 5000}").rstrip("/")
    return {
        "SITE_URL": site_url,
        "TRUSTED_HOSTS": trusted_hosts(env.get("TRUSTED_HOSTS"), site_url),
        # Reverse proxies in front of the app whose X-Forwarded-* headers are believed (0: none).
        "PROXY_COUNT": int(env.get("PROXY_COUNT") or 0),
        # How long a login lasts: with "Remember me", else until the browser closes or this cap.
        "REMEMBER_COOKIE_DURATION": timedelta(days=int(env.get("REMEMBER_DAYS") or 30)),
        "SESSION_HOURS": int(env.get("SESSION_HOURS") or 24),
        "SECRET_KEY": env.get("SECRET_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(env.get("DATABASE_URL") or default_db),
        **_lab_settings(env),
        "MAIL_BACKEND": env.get("MAIL_BACKEND", "outbox"),
        "MAIL_SERVER": env.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(env.get("MAIL_PORT") or 587),
        "MAIL_USERNAME": env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS"), True),
        "MAIL_FROM": env.get("MAIL_FROM", "EduCluster <no-reply@educluster.local>"),
        "ACTIVITY_PLUGINS": [p for p in (env.get("ACTIVITY_PLUGINS") or "").split(",") if p],
        "LRS_ENDPOINT": env.get("LRS_ENDPOINT", ""),
        "LRS_USERNAME": env.get("LRS_USERNAME", ""),
        "LRS_PASSWORD": env.get("LRS_PASSWORD", ""),
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), False),
        # Fuse semantic similarity into skill suggestions when the [semantic] extra is installed.
        "SKILLS_SEMANTIC": _bool(env.get("SKILLS_SEMANTIC"), True),
        "PREFERRED_URL_SCHEME": env.get("PREFERRED_URL_SCHEME", "http"),
        "SERVER_NAME": env.get("SERVER_NAME") or None,
        "MAX_CONTENT_LENGTH": int(env.get("MAX_UPLOAD_MB") or 20) * 1024 * 1024,
        "FORUM_RATE_LIMIT_POSTS": int(env.get("FORUM_RATE_LIMIT_POSTS") or 5),
        "FORUM_RATE_LIMIT_SECONDS": int(env.get("FORUM_RATE_LIMIT_SECONDS") or 60),
        # The one currency of the cluster's joint funding, and how long the live indicators of
        # the current period are reused by the pages and the API (0: computed on every request).
        "CLUSTER_CURRENCY": (env.get("CLUSTER_CURRENCY") or "EUR").upper(),
        "CLUSTER_LIVE_SECONDS": int(env.get("CLUSTER_LIVE_SECONDS") or 120),
        # Learner pages kept rendered per person while nothing they show changes, and at most
        # this long (0: never kept); how many each server process keeps (see lms/pagecache).
        "PAGE_CACHE_SECONDS": int(env.get("PAGE_CACHE_SECONDS") or 60),
        "PAGE_CACHE_ENTRIES": int(env.get("PAGE_CACHE_ENTRIES") or 2000),
        "PAGE_CACHE_MB": int(env.get("PAGE_CACHE_MB") or 64),
    }


DEFAULTS = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    # Login throttling per account and address: after this many failures, refuse for a delay
    # that doubles each time up to the cap (see lms/auth/throttle.py and the README).
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_BASE_LOCK_SECONDS": 30,
    "LOGIN_MAX_LOCK_SECONDS": 15 * 60,
    # Password-reset and self-registration mails per hour, per client address and per address.
    "MAILS_PER_HOUR": 5,
    "REGISTRATION_SECONDS": 2 * 24 * 3600,
    "INVITATION_DAYS": 14,
    "PASSWORD_RESET_SECONDS": 3600,
    "PAGE_SIZE": 25,
}
