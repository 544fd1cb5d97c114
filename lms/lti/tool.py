"""PyLTI1p3 (the ``pylti1p3next`` distribution) wired to EduCluster's database.

The library does the OIDC login and every JWT check; this module gives it the registrations
(``DbToolConf``), a launch-data store shared by every web process (``DbLaunchDataStorage``:
OIDC state and nonces survive a browser that drops third-party cookies) and the Flask request.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import request
from jwcrypto.jwk import JWK
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.deployment import Deployment
from pylti1p3.launch_data_storage.cache import CacheDataStorage
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy import delete, select

from lms.extensions import db
from lms.timeutil import utcnow

from .keys import signing_key
from .models import LtiDeployment, LtiPlatform, LtiStoreEntry

DEFAULT_LIFETIME = 3600


class DbCache:
    """get/set with expiry over ``lti_store`` (the shape the library's cache storage expects)."""

    def get(self, key: str) -> Any:
        """Cached LTI launch value, unless it expired."""
        row = db.session.get(LtiStoreEntry, key[:255])
        if row is None or row.expires_at < utcnow():
            return None
        return row.value

    def set(self, key: str, value: Any, exp: int | None = None) -> None:
        """Store an LTI launch value with its lifetime, pruning expired ones."""
        now = utcnow()
        db.session.execute(delete(LtiStoreEntry).where(LtiStoreEntry.expires_at < now))
        expires = now + timedelta(seconds=exp or DEFAULT_LIFETIME)
        row = db.session.get(LtiStoreEntry, key[:255])
        if row is None:
            db.session.add(LtiStoreEntry(key=key[:255], value=value, expires_at=expires))
        else:
            row.value, row.expires_at = value, expires
        db.session.flush()


class DbLaunchDataStorage(CacheDataStorage):
    """The library's cache-backed launch storage, on the database."""

    _cache = DbCache()


def registration_for(platform: LtiPlatform) -> Registration:
    """The library's view of a platform, signing with the tool's current key."""
    key = signing_key()
    return (
        Registration()
        .set_issuer(platform.issuer)
        .set_client_id(platform.client_id)
        .set_auth_login_url(platform.auth_login_url)
        .set_auth_token_url(platform.auth_token_url)
        .set_auth_audience(platform.auth_audience or None)
        .set_key_set_url(platform.key_set_url)
        .set_tool_private_key(key.private_pem)
        .set_tool_public_key(_public_pem(key.public_jwk))
    )


def _public_pem(jwk: dict) -> str:
    return JWK(**jwk).export_to_pem().decode()


def find_platform(issuer: str, client_id: str | None) -> LtiPlatform | None:
    """The active platform for (issuer, client id); with no client id, the issuer's only one."""
    query = select(LtiPlatform).where(LtiPlatform.issuer == issuer, LtiPlatform.active.is_(True))
    if client_id:
        return db.session.scalar(query.where(LtiPlatform.client_id == client_id))
    rows = db.session.scalars(query.limit(2)).all()
    return rows[0] if len(rows) == 1 else None


class DbToolConf(ToolConfAbstract):
    """Registrations and deployments from ``lti_platforms``; several client ids per issuer."""

    def check_iss_has_one_client(self, iss: str) -> bool:
        """Never: an issuer may register several client ids."""
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        """Always: look registrations up by issuer and client id."""
        return True

    def find_registration_by_issuer(self, iss: str, *args, **kwargs) -> Registration | None:
        """Registration of the active platform of an issuer."""
        platform = find_platform(iss, None)
        return registration_for(platform) if platform else None

    def find_registration_by_params(
        self, iss: str, client_id: str, *args, **kwargs
    ) -> Registration | None:
        """Registration of the active platform of an issuer and client id."""
        platform = find_platform(iss, client_id)
        return registration_for(platform) if platform else None

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        """Known deployment of an issuer, any client."""
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str | None, *args, **kwargs
    ) -> Deployment | None:
        """Known deployment of an issuer and client id, else None."""
        platform = find_platform(iss, client_id)
        if platform is None or not isinstance(deployment_id, str):
            return None
        found = db.session.scalar(
            select(LtiDeployment.id).where(
                LtiDeployment.platform_id == platform.id,
                LtiDeployment.deployment_id == deployment_id,
            )
        )
        return Deployment().set_deployment_id(deployment_id) if found else None


def flask_request() -> FlaskRequest:
    """The library's wrapper of the current request."""
    return FlaskRequest(request_is_secure=request.is_secure)


def _storage(req: FlaskRequest) -> DbLaunchDataStorage:
    storage = DbLaunchDataStorage()
    storage.set_request(req)
    return storage


def oidc_login() -> FlaskOIDCLogin:
    """The library's OIDC login for this request, on EduCluster's registrations and store."""
    req = flask_request()
    return FlaskOIDCLogin(req, DbToolConf(), launch_data_storage=_storage(req))


def message_launch() -> FlaskMessageLaunch:
    """The library's launch for this request, on EduCluster's registrations and store."""
    req = flask_request()
    return FlaskMessageLaunch(req, DbToolConf(), launch_data_storage=_storage(req))
