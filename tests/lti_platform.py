"""A real LTI 1.3 platform for the tests, built on the PyPI package ``lti1p3platform``.

It signs launches with its own RSA key, serves its JWKS, OAuth2 token endpoint (client
credentials with a signed assertion, checked against the tool's JWKS), an AGS score endpoint
and an NRPS roster over HTTP on a loopback port, so the tool talks to it exactly as to Moodle.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import Flask, jsonify, request
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request
from pylti1p3.dynamic_registration import generate_key_pair
from werkzeug.serving import make_server

from tests.conftest import free_port

TOOL = "http://localhost"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]


class _Conf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        return self._registration


class _Request(Request):
    def build_metadata(self, request: Any):
        return {"method": "GET", "get_data": request, "form_data": {}, "headers": {}, "path": ""}


class _Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


class _Launch(LTIAdvantageMessageLaunchAbstract):
    def render_launch_form(self, launch_data: dict, **kwargs: Any) -> dict:
        return launch_data


class Platform:
    """One platform (issuer = its loopback URL) with one client id and deployment."""

    def __init__(self, client_id: str = "educluster-client", deployment_id: str = "dep-1"):
        self.private_key, self.public_key = generate_key_pair(2048)
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.client_id, self.deployment_id = client_id, deployment_id
        self.scores: list[dict] = []
        self.down = False
        self.members: list[dict] = []
        self.tool_registration: dict | None = None
        self.registration = (
            Registration()
            .set_iss(self.issuer)
            .set_client_id(client_id)
            .set_deployment_id(deployment_id)
            .set_oidc_login_url(f"{TOOL}/lti/login")
            .set_launch_url(f"{TOOL}/lti/launch")
            .set_deeplink_launch_url(f"{TOOL}/lti/launch")
            .set_platform_public_key(self.public_key)
            .set_platform_private_key(self.private_key)
        )
        self.conf = _Conf(registration=self.registration)
        self._server = make_server("127.0.0.1", self.port, self._app(), threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- its HTTP services --------------------------------------------------------------------
    def _app(self) -> Flask:
        app = Flask("lti-platform")
        platform = self

        def authorised(scope: str) -> bool:
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
            return platform.conf.validate_token(token, allowed_scopes=[scope])

        @app.get("/jwks")
        def jwks():
            return jsonify(platform.conf.get_jwks())

        @app.post("/token")
        def token():
            return jsonify(platform.conf.get_access_token(request.form.to_dict()))

        @app.post("/lineitems/<item>/lineitem/scores")
        def scores(item):
            if platform.down:
                return "maintenance", 503
            if not authorised("https://purl.imsglobal.org/spec/lti-ags/scope/score"):
                return "forbidden", 403
            platform.scores.append({"lineitem": item, **request.get_json(force=True)})
            return "", 204

        @app.get("/memberships")
        def memberships():
            scope = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
            if not authorised(scope):
                return "forbidden", 403
            return jsonify(
                {"id": "roster", "context": {"id": "course-1"}, "members": platform.members}
            )

        @app.get("/.well-known/openid-configuration")
        def openid_configuration():
            return jsonify(
                {
                    "issuer": platform.issuer,
                    "authorization_endpoint": f"{platform.issuer}/auth",
                    "token_endpoint": f"{platform.issuer}/token",
                    "jwks_uri": f"{platform.issuer}/jwks",
                    "registration_endpoint": f"{platform.issuer}/register",
                    "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                        "product_family_code": "moodle",
                        "version": "4.3",
                    },
                }
            )

        @app.post("/register")
        def register():
            if request.headers.get("Authorization") != "Bearer reg-token-1":
                return "forbidden", 403
            platform.tool_registration = request.get_json(force=True)
            tool_conf = dict(
                platform.tool_registration["https://purl.imsglobal.org/spec/lti-tool-configuration"]
            )
            tool_conf["deployment_id"] = platform.deployment_id
            return jsonify(
                {
                    **platform.tool_registration,
                    "client_id": platform.client_id,
                    "https://purl.imsglobal.org/spec/lti-tool-configuration": tool_conf,
                }
            )

        return app

    def start(self, tool_jwks: dict) -> Platform:
        self.registration.set_tool_key_set(tool_jwks)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    @property
    def urls(self) -> dict[str, str]:
        return {
            "auth_login_url": f"{self.issuer}/auth",
            "auth_token_url": f"{self.issuer}/token",
            "key_set_url": f"{self.issuer}/jwks",
        }

    # --- launches -----------------------------------------------------------------------------
    def login_url(self, user_id: str) -> str:
        login = _Login(None, self.conf)
        login.set_lti_message_hint(hint="launch")
        return login.prepare_preflight_url(user_id)

    def id_token(
        self,
        auth_params: dict,
        *,
        sub: str,
        roles: list[str],
        name: str = "Ada Lovelace",
        resource_link: str | None = "link-1",
        custom: dict | None = None,
        deep_link: bool = False,
        expiration: int = 300,
        context_id: str = "course-1",
    ) -> dict:
        launch = _Launch(_Request(auth_params), self.conf)
        launch.set_user_data(sub, roles, full_name=name)
        launch.set_launch_context_claim(context_id, context_title="Programming 101")
        if resource_link:
            launch.set_resource_link_claim(resource_link, title="EduCluster item")
        if custom:
            launch.set_custom_parameters_claim(custom)
        launch.set_ags(
            f"{self.issuer}/lineitems",
            f"{self.issuer}/lineitems/{resource_link}/lineitem",
        )
        launch.extra_claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]["scope"] = (
            AGS_SCOPES
        )
        launch.set_nrps(f"{self.issuer}/memberships")
        if deep_link:
            launch.set_dl(f"{self.issuer}/deep-link-return", title="EduCluster")
        launch.set_id_token_expiration(expiration)
        return launch.lti_launch()


def auth_params(location: str) -> dict:
    """The OIDC authentication request's parameters from the tool's redirect."""
    return dict(parse_qsl(urlsplit(location).query))
