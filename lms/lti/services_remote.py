"""Calls from the tool to a platform's services (AGS scores, NRPS roster), through the library's
service connector: it signs the client-credentials assertion with the tool's key and caches the
access token."""

from __future__ import annotations

import threading
import time

import requests
from pylti1p3.service_connector import ServiceConnector

from .models import LtiPlatform
from .tool import registration_for

TIMEOUT = 10


class _TimeoutSession(requests.Session):
    """A session whose requests never hang a sender: the library sets no timeout itself."""

    def request(self, *args, **kwargs):
        """Send the request with the default timeout unless one is given."""
        kwargs.setdefault("timeout", TIMEOUT)
        return super().request(*args, **kwargs)


class CachingConnector(ServiceConnector):
    """Access tokens cached in this process until shortly before they expire, per client id
    (the library keys its cache by issuer only, which would mix two registrations)."""

    _tokens: dict[tuple[str, str], tuple[str, float]] = {}
    _lock = threading.Lock()

    def _key(self, scope_key: str) -> tuple[str, str]:
        return (str(self._registration.get_client_id()), scope_key)

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        with self._lock:
            token, expires = self._tokens.get(self._key(scope_key), ("", 0.0))
        return token if token and expires > time.monotonic() else None

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float):
        with self._lock:
            self._tokens[self._key(scope_key)] = (
                access_token,
                time.monotonic() + max(0.0, float(expires_in or 0) - 30),
            )


def connector(platform: LtiPlatform) -> ServiceConnector:
    """The library's service connector for calls to ``platform``."""
    return CachingConnector(registration_for(platform), _TimeoutSession())
