"""Calls from the tool to a platform's services (AGS scores, NRPS roster), through the library's
service connector: it signs the client-credentials assertion with the tool's key and caches the
access token."""

from __future__ import annotations

import requests
from pylti1p3.service_connector import ServiceConnector

from .models import LtiPlatform
from .tool import registration_for

TIMEOUT = 10


class _TimeoutSession(requests.Session):
    """A session whose requests never hang a sender: the library sets no timeout itself."""

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", TIMEOUT)
        return super().request(*args, **kwargs)


def connector(platform: LtiPlatform) -> ServiceConnector:
    return ServiceConnector(registration_for(platform), _TimeoutSession())
