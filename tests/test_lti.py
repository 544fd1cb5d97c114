"""LTI 1.3 end to end against a real platform (``lti1p3platform``) with real signed messages:
launch, deep linking, grade passback through the outbox, roster sync; and hostile launches,
each refused with a clear page and nothing created."""

from __future__ import annotations

import base64
import json
import re

import pytest
from sqlalchemy import func, select

from lms.domain.models import Enrolment
from lms.extensions import db
from lms.lti import keys
from lms.lti.grades import flush_scores
from lms.lti.models import LtiContext, LtiPlatform, LtiScore, LtiUserLink, ScoreStatus
from lms.lti.registration import register_platform
from lms.lti.roles import map_roles
from lms.models import Organization, User
from tests.factories import make_course, make_lab, make_module, make_org, make_user
from tests.lti_platform import INSTRUCTOR, LEARNER, Platform, auth_params

pytestmark = pytest.mark.sandbox
ANSWER = "a, b = map(int, input().split())\nprint(a + b)\n"


@pytest.fixture
def world(app, client):
    """Two organizations; a platform registered for the first; a published course with a lab
    open to it, and a private course of the other organization."""
    with app.app_context():
        uni, other = make_org("uni"), make_org("rival")
        course = make_course(uni, title="Programming 101")
        lab = make_lab(make_module(course))
        secret = make_course(other, title="Rival's private course")
        db.session.commit()
        ids = {"org": uni.id, "course": course.id, "lab": lab.id, "secret": secret.id}
    platform = Platform().start(client.get("/lti/jwks").get_json())
    with app.app_context():
        register_platform(
            db.session.get(Organization, ids["org"]),
            None,
            name="Test Moodle",
            issuer=platform.issuer,
            client_id=platform.client_id,
            deployment_ids=[platform.deployment_id],
            **platform.urls,
        )
        db.session.commit()
    yield platform, ids
    platform.stop()


def launch(client, platform: Platform, *, replay: dict | None = None, **claims):
    """The whole browser flow: platform -> tool login -> platform auth -> tool launch."""
    if replay is not None:
        return client.post("/lti/launch", data=replay), replay
    login = client.get(platform.login_url(claims.get("sub", "u-1")))
    assert login.status_code == 302, login.get_data(as_text=True)
    data = platform.id_token(auth_params(login.headers["Location"]), **claims)
    form = {"id_token": data["id_token"], "state": data["state"]}
    return client.post("/lti/launch", data=form), form


def counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(m))
        for m in (User, LtiUserLink, LtiContext, Enrolment)
    )


def test_role_mapping_never_grants_more_than_it_says():
    admin = "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"
    inst_admin = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
    assert map_roles([LEARNER]) == "learner"
    assert map_roles([INSTRUCTOR, LEARNER]) == "instructor"
    assert map_roles([admin, inst_admin]) == "none"
    assert (
        map_roles(
            ["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"]
        )
        == "instructor"
    )
    assert map_roles([None, 5, "Mentor"]) == "none"


def test_learner_launch_lands_on_the_lab_and_the_grade_goes_back_once(app, client, world):
    platform, ids = world
    custom = {"educluster_course": str(ids["course"]), "educluster_activity": str(ids["lab"])}
    response, _ = launch(client, platform, sub="learner-7", roles=[LEARNER], custom=custom)
    assert response.status_code == 302
    assert (
        f"/activities/{ids['lab']}" in response.headers["Location"]
        or str(ids["lab"]) in response.headers["Location"]
    )
    with app.app_context():
        link = db.session.scalar(select(LtiUserLink))
        assert (link.issuer, link.subject) == (platform.issuer, "learner-7")
        user = db.session.get(User, link.user_id)
        assert user.name == "Ada Lovelace" and not user.is_site_admin
        assert user.roles_in(ids["org"]) == {"learner"}  # nothing more than the mapping says
        assert db.session.scalar(select(Enrolment).where(Enrolment.user_id == user.id)) is not None
    # No second login: the learner submits straight away.
    graded = client.post(
        f"/labs/{ids['lab']}/submissions", data={"kind": "submit", "file:main.py": ANSWER}
    )
    assert graded.status_code == 302
    platform.down = True
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LtiScore)) == 1
        result = flush_scores()
        assert (result.sent, result.failed, result.pending) == (0, 1, 1)
    assert platform.scores == []
    platform.down = False
    with app.app_context():
        assert flush_scores().sent == 0  # still in its backoff
        assert flush_scores(ignore_backoff=True).sent == 1
        assert flush_scores(ignore_backoff=True).sent == 0  # never sent twice
        row = db.session.scalar(select(LtiScore))
        assert row.status == ScoreStatus.SENT
    assert len(platform.scores) == 1
    score = platform.scores[0]
    assert (score["userId"], score["scoreGiven"], score["scoreMaximum"]) == ("learner-7", 100, 100)


def test_a_placed_course_gets_the_course_grade_when_completed(app, client, world):
    platform, ids = world
    launch(
        client,
        platform,
        sub="learner-8",
        roles=[LEARNER],
        custom={"educluster_course": str(ids["course"])},
    )
    client.post(f"/labs/{ids['lab']}/submissions", data={"kind": "submit", "file:main.py": ANSWER})
    with app.app_context():
        assert flush_scores().sent == 1
    assert [(s["userId"], s["scoreGiven"]) for s in platform.scores] == [("learner-8", 100)]


def test_deep_linking_places_a_lab_and_the_platform_launches_it(app, client, world):
    platform, ids = world
    response, _ = launch(
        client, platform, sub="teacher-1", roles=[INSTRUCTOR], deep_link=True, resource_link=None
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/lti/deep-link")
    picker = client.get("/lti/deep-link").get_data(as_text=True)
    assert "Programming 101" in picker and "Rival" not in picker  # never another org's course
    forged = client.post("/lti/deep-link", data={"item": f"course:{ids['secret']}"})
    assert forged.status_code == 302  # refused back to the picker
    reply = client.post("/lti/deep-link", data={"item": f"activity:{ids['course']}:{ids['lab']}"})
    token = re.search(r'name="JWT" value="([^"]+)"', reply.get_data(as_text=True)).group(1)
    items = platform.conf.validate_deeplinking_resp({"JWT": token})
    assert items[0]["custom"] == {
        "educluster_course": str(ids["course"]),
        "educluster_activity": str(ids["lab"]),
    }
    assert items[0]["lineItem"]["scoreMaximum"] == 100
    client.post("/auth/logout")
    learner, _ = launch(
        client,
        platform,
        sub="learner-9",
        roles=[LEARNER],
        custom=items[0]["custom"],
        resource_link="placed-1",
    )
    assert learner.status_code == 302 and str(ids["lab"]) in learner.headers["Location"]


def test_roster_sync_and_the_instructor_sees_platform_learners(app, client, world):
    platform, ids = world
    custom = {"educluster_course": str(ids["course"])}
    launch(client, platform, sub="teacher-1", roles=[INSTRUCTOR], custom=custom)
    platform.members = [
        {"user_id": "learner-1", "name": "Grace Hopper", "roles": [LEARNER], "status": "Active"},
        {"user_id": "learner-2", "name": "Alan Turing", "roles": [LEARNER], "status": "Active"},
        {"user_id": "teacher-1", "name": "Ada Lovelace", "roles": [INSTRUCTOR], "status": "Active"},
    ]
    with app.app_context():
        context_id = db.session.scalar(select(LtiContext.id))
        make_user(org=db.session.get(Organization, ids["org"]), name="Not in the platform course")
        db.session.commit()
    synced = client.post(f"/lti/courses/{context_id}/sync", follow_redirects=True)
    page = synced.get_data(as_text=True)
    assert "Roster synced: 3 people" in page
    assert (
        "Grace Hopper" in page
        and "Alan Turing" in page
        and "Not in the platform course" not in page
    )
    client.post("/auth/logout")
    launch(client, platform, sub="learner-1", roles=[LEARNER], custom=custom)
    assert client.get(f"/lti/courses/{context_id}").status_code == 404  # learners do not see it


def _tamper_roles(token: str) -> str:
    head, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["https://purl.imsglobal.org/spec/lti/claim/roles"] = [INSTRUCTOR]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return ".".join((head, forged, signature))


def test_hostile_launches_are_refused_with_a_clear_page_and_nothing_created(app, client, world):
    platform, ids = world
    custom = {"educluster_course": str(ids["course"])}
    with app.app_context():
        before = counts()

    def refused(response, words: str) -> None:
        page = response.get_data(as_text=True)
        assert response.status_code in (400, 403), page
        assert "could not be accepted" in page and words in page, page
        with app.app_context():
            assert counts() == before

    response, _ = launch(client, platform, sub="x", roles=[LEARNER], custom=custom, expiration=-120)
    refused(response, "expired")
    login = client.get(platform.login_url("x"))
    data = platform.id_token(
        auth_params(login.headers["Location"]), sub="x", roles=[LEARNER], custom=custom
    )
    head, body, sig = data["id_token"].split(".")
    tampered = ".".join(
        (head, body, sig[:-6] + ("AAAAAA" if not sig.endswith("AAAAAA") else "BBBBBB"))
    )
    refused(
        client.post("/lti/launch", data={"id_token": tampered, "state": data["state"]}),
        "not signed",
    )
    forged = _tamper_roles(data["id_token"])
    refused(
        client.post(
            "/lti/launch", data={"id_token": forged, "state": data["state"], "roles": INSTRUCTOR}
        ),
        "not signed",
    )
    refused(launch(client, platform, sub="x", roles=[], custom=custom)[0], "role")
    refused(
        launch(
            client,
            platform,
            sub="x",
            roles=[LEARNER],
            custom={"educluster_course": str(ids["secret"])},
        )[0],
        "not available to your organization",
    )
    wrong_audience = Platform(client_id="someone-else")
    wrong_audience.issuer, wrong_audience.registration._iss = platform.issuer, platform.issuer
    wrong_audience.private_key = platform.private_key
    wrong_audience.registration.set_platform_private_key(platform.private_key)
    wrong_audience.registration.set_platform_public_key(platform.public_key)
    params = auth_params(client.get(platform.login_url("x")).headers["Location"])
    params["client_id"] = "someone-else"  # a token meant for another tool (aud)
    other = wrong_audience.id_token(params, sub="x", roles=[LEARNER], custom=custom)
    refused(client.post("/lti/launch", data=other), "not registered")
    platform.registration.set_deployment_id("unknown-deployment")
    refused(launch(client, platform, sub="x", roles=[LEARNER], custom=custom)[0], "deployment")
    platform.registration.set_deployment_id(platform.deployment_id)
    # A good launch, then the same message replayed.
    ok, form = launch(client, platform, sub="x", roles=[LEARNER], custom=custom)
    assert ok.status_code == 302
    with app.app_context():
        before = counts()
    refused(launch(client, platform, replay=form)[0], "already used")


def test_jwks_keeps_a_rotated_key_for_launches_in_flight(app, client):
    first = client.get("/lti/jwks").get_json()["keys"]
    with app.app_context():
        keys.rotate_key()
        db.session.commit()
    after = [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]]
    assert len(after) == 2 and first[0]["kid"] in after and after[0] != first[0]["kid"]


def test_admins_register_platforms_by_hand(app, client, auth):
    with app.app_context():
        org = make_org("college")
        make_user("admin@college.test", org=org, role="org_admin")
        make_user("learner@college.test", org=org)
        db.session.commit()
        org_id = org.id
    auth.login("learner@college.test")
    assert client.get("/lti/platforms/").status_code == 403
    auth.logout()
    auth.login("admin@college.test")
    form = {
        "action": "register",
        "p-organization_id": str(org_id),
        "p-name": "College Canvas",
        "p-issuer": "https://canvas.college.test",
        "p-client_id": "10000000000001",
        "p-deployment_ids": "1:abc\n2:def\n",
        "p-auth_login_url": "https://canvas.college.test/api/lti/authorize_redirect",
        "p-auth_token_url": "https://canvas.college.test/login/oauth2/token",
        "p-key_set_url": "not a url",
    }
    bad = client.post("/lti/platforms/", data=form)
    assert bad.status_code == 400 and "full URL" in bad.get_data(as_text=True)
    form["p-key_set_url"] = "https://canvas.college.test/api/lti/security/jwks"
    assert client.post("/lti/platforms/", data=form).status_code == 302
    with app.app_context():
        platform = db.session.scalar(select(LtiPlatform))
        assert platform.deployment_ids == ["1:abc", "2:def"] and platform.organization_id == org_id
    token_page = client.post(
        "/lti/platforms/",
        data={"action": "token", "t-organization_id": str(org_id)},
        follow_redirects=True,
    )
    assert "/lti/register/" in token_page.get_data(as_text=True)
    assert "/lti/register/" not in client.get("/lti/platforms/").get_data(as_text=True)  # once


def test_dynamic_registration_with_a_one_time_url(app, client, auth):
    with app.app_context():
        org = make_org("dynamic-uni")
        make_user("root@dynamic.test", org=org, role="org_admin")
        course = make_course(org, title="Data structures")
        db.session.commit()
        org_id, course_id = org.id, course.id
    auth.login("root@dynamic.test")
    page = client.post(
        "/lti/platforms/",
        data={"action": "token", "t-organization_id": str(org_id)},
        follow_redirects=True,
    )
    url = re.search(r"http://localhost(/lti/register/[^<\s]+)", page.get_data(as_text=True)).group(
        1
    )
    auth.logout()
    platform = Platform(client_id="dyn-client", deployment_id="dyn-dep")
    platform.start(client.get("/lti/jwks").get_json())
    try:
        query = {
            "openid_configuration": f"{platform.issuer}/.well-known/openid-configuration",
            "registration_token": "reg-token-1",
        }
        done = client.get(url, query_string=query)
        assert done.status_code == 200 and "data-lti-registered" in done.get_data(as_text=True)
        sent = platform.tool_registration
        assert sent["jwks_uri"] == "http://localhost/lti/jwks"
        assert sent["initiate_login_uri"] == "http://localhost/lti/login"
        assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in sent["scope"]
        with app.app_context():
            registered = db.session.scalar(select(LtiPlatform))
            assert (registered.client_id, registered.deployment_ids) == ("dyn-client", ["dyn-dep"])
            assert registered.organization_id == org_id and registered.registered_by == "dynamic"
        again = client.get(url, query_string=query)
        assert again.status_code == 404 and "used or expired" in again.get_data(as_text=True)
        custom = {"educluster_course": str(course_id)}
        response, _ = launch(client, platform, sub="dyn-learner", roles=[LEARNER], custom=custom)
        assert response.status_code == 302 and "/lti/" not in response.headers["Location"]
    finally:
        platform.stop()
