"""Platform registration: by hand (an admin types the platform's details) and by LTI Dynamic
Registration (the admin gives the platform a one-time URL; the library's flow does the rest)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import request, url_for
from pylti1p3.dynamic_registration import DynamicRegistration
from sqlalchemy import select

from lms.errors import Conflict, DomainError
from lms.extensions import db
from lms.models import Organization, User
from lms.timeutil import utcnow

from .models import LtiDeployment, LtiPlatform, LtiRegistrationToken
from .services_remote import _TimeoutSession

TOKEN_LIFETIME = timedelta(days=2)
SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
]


def _https_url(value: str, what: str) -> str:
    value = (value or "").strip()
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc or len(value) > 500:
        raise DomainError(f"Enter the {what} as a full URL starting with https://.")
    return value


def register_platform(
    org: Organization,
    by: User | None,
    *,
    name: str,
    issuer: str,
    client_id: str,
    deployment_ids: list[str],
    auth_login_url: str,
    auth_token_url: str,
    key_set_url: str,
    auth_audience: str = "",
    registered_by: str = "hand",
) -> LtiPlatform:
    """Record a platform for ``org`` (its launched people become the organization's learners)."""
    issuer, client_id = (issuer or "").strip(), (client_id or "").strip()
    if not issuer or len(issuer) > 255:
        raise DomainError("Enter the platform's issuer (its URL, as in its tool settings).")
    if not client_id or len(client_id) > 255:
        raise DomainError("Enter the client ID the platform gave EduCluster.")
    deployments = sorted({d.strip() for d in deployment_ids if d.strip()})
    if not deployments or any(len(d) > 255 for d in deployments):
        raise DomainError("Enter at least one deployment ID (one per line).")
    clash = db.session.scalar(
        select(LtiPlatform.id).where(
            LtiPlatform.issuer == issuer, LtiPlatform.client_id == client_id
        )
    )
    if clash:
        raise Conflict("A platform with this issuer and client ID is already registered.")
    platform = LtiPlatform(
        organization_id=org.id,
        name=(name or "").strip()[:200] or urlsplit(issuer).netloc or issuer,
        issuer=issuer,
        client_id=client_id,
        auth_login_url=_https_url(auth_login_url, "OIDC authentication URL"),
        auth_token_url=_https_url(auth_token_url, "access token URL"),
        key_set_url=_https_url(key_set_url, "public keyset URL"),
        auth_audience=(auth_audience or "").strip()[:500],
        registered_by=registered_by,
        created_by_id=by.id if by else None,
    )
    platform.deployments = [LtiDeployment(deployment_id=d) for d in deployments]
    db.session.add(platform)
    db.session.flush()
    return platform


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_registration_token(org: Organization, by: User) -> str:
    """A one-time secret for a Dynamic Registration URL (kept only as a hash)."""
    token = secrets.token_urlsafe(24)
    db.session.add(
        LtiRegistrationToken(
            token_hash=_hash(token),
            organization_id=org.id,
            created_by_id=by.id,
            expires_at=utcnow() + TOKEN_LIFETIME,
        )
    )
    db.session.flush()
    return token


def registration_token(token: str) -> LtiRegistrationToken | None:
    """The unused, unexpired token row for ``token``."""
    row = db.session.scalar(
        select(LtiRegistrationToken).where(LtiRegistrationToken.token_hash == _hash(token or ""))
    )
    if row is None or row.used_at is not None or row.expires_at < utcnow():
        return None
    return row


class EduClusterRegistration(DynamicRegistration):
    """The library's Dynamic Registration flow with EduCluster's URLs and storage."""

    client_name = "EduCluster"
    description = (
        "Co-designed courses, sandboxed code labs and quizzes from your education cluster."
    )

    def __init__(self, token: LtiRegistrationToken, openid_configuration: str, reg_token: str):
        self.token = token
        self.openid_configuration_url = openid_configuration
        self.reg_token = reg_token or None
        self.platform: LtiPlatform | None = None

    def get_request_session(self):
        """HTTP session with a timeout for calls to the platform."""
        return _TimeoutSession()

    def get_initiate_login_uri(self) -> str:
        """Our OIDC login-initiation URL."""
        return url_for("lti.login", _external=True)

    def get_jwks_uri(self) -> str:
        """URL of our public tool keys."""
        return url_for("lti.jwks", _external=True)

    def get_redirect_uris(self) -> list[str]:
        """Launch URLs the platform may redirect to."""
        return [url_for("lti.launch", _external=True)]

    def get_target_link_uri(self) -> str:
        """Default launch URL of the tool."""
        return url_for("lti.launch", _external=True)

    def get_domain(self) -> str:
        """Host name the tool is registered under."""
        return request.host

    def get_scopes(self) -> list[str]:
        """LTI service scopes the tool asks for."""
        return SCOPES

    def get_claims(self) -> list[str]:
        """Identity claims the tool asks the platform to send."""
        return ["iss", "sub", "name", "given_name", "family_name"]

    def get_messages(self) -> list[dict[str, Any]]:
        """Deep-linking message the tool offers to add courses, labs or quizzes."""
        return [
            {
                "type": "LtiDeepLinkingRequest",
                "target_link_uri": url_for("lti.launch", _external=True),
                "label": "EduCluster: add a course, lab or quiz",
            }
        ]

    def get_logo_uri(self) -> str:
        """Logo the platform shows for the tool."""
        return url_for("static", filename="favicon.svg", _external=True)

    def get_openid_configuration_endpoint(self) -> str:
        """Platform's OpenID configuration URL from the registration request."""
        return self.openid_configuration_url

    def get_registration_token(self) -> str | None:
        """Registration token the platform passed, if any."""
        return self.reg_token

    def complete_registration(self, openid_configuration: dict, openid_registration: dict):
        """Check the platform's configuration and save it with its deployment."""
        issuer = openid_configuration.get("issuer")
        # The spec's check: the configuration must come from the issuer it names.
        if not isinstance(issuer, str) or not self.openid_configuration_url.startswith(issuer):
            raise DomainError("The platform's configuration does not come from its issuer.")
        tool_conf = openid_registration.get(
            "https://purl.imsglobal.org/spec/lti-tool-configuration", {}
        )
        platform_conf = openid_configuration.get(
            "https://purl.imsglobal.org/spec/lti-platform-configuration", {}
        )
        deployment = tool_conf.get("deployment_id")
        org = db.session.get(Organization, self.token.organization_id)
        self.platform = register_platform(
            org,
            db.session.get(User, self.token.created_by_id) if self.token.created_by_id else None,
            name=str(platform_conf.get("product_family_code") or urlsplit(issuer).netloc),
            issuer=issuer,
            client_id=str(openid_registration.get("client_id") or ""),
            deployment_ids=[str(deployment)] if deployment else [],
            auth_login_url=str(openid_configuration.get("authorization_endpoint") or ""),
            auth_token_url=str(openid_configuration.get("token_endpoint") or ""),
            key_set_url=str(openid_configuration.get("jwks_uri") or ""),
            auth_audience=str(openid_configuration.get("authorization_server") or ""),
            registered_by="dynamic",
        )
        self.token.used_at = utcnow()
        self.token.platform_id = self.platform.id
        db.session.flush()
        return self.platform


def platforms_of(org_ids: list[int]) -> list[LtiPlatform]:
    """The platforms registered for these organizations, active ones first, by name."""
    return list(
        db.session.scalars(
            select(LtiPlatform)
            .where(LtiPlatform.organization_id.in_(org_ids))
            .order_by(LtiPlatform.active.desc(), LtiPlatform.name)
        )
    )
