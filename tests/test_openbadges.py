"""Open Badges 3.0 credentials: canonical JSON, the site key, signing and verification."""

from __future__ import annotations

import copy
import io
import json
import multiprocessing
import os
import stat
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from lms.credentials.canonical import canonical_json
from lms.credentials.keys import KEY_FILENAME, SigningKey, b58decode, load_or_create_key, site_key
from lms.credentials.models import Certificate
from lms.credentials.openbadges import (
    OB_CONTEXT,
    VC_CONTEXT,
    sign_credential,
    signed_credential,
    verify_credential,
)
from lms.extensions import db
from lms.timeutil import utcnow
from tests.trust_helpers import cluster, complete


# --- RFC 8785 canonical JSON ------------------------------------------------------------------
def test_canonical_json_rfc8785_vectors():
    # RFC 8785 section 3.2.2 sample (numbers and strings) and 3.2.3 (sorting by UTF-16 units)
    assert (
        canonical_json(
            {"numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001]}
        )
        == '{"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}'
    )
    assert canonical_json({"string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/"}) == (
        '{"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json({"literals": [None, True, False]}) == '{"literals":[null,true,false]}'
    sorting = {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
               "1": "One", "\U0001f600": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}  # fmt: skip
    keys = list(json.loads(canonical_json(sorting)))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert (
        canonical_json({"b": 1, "a": {"d": [1, 2.0], "c": "x"}})
        == '{"a":{"c":"x","d":[1,2]},"b":1}'
    )


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 2**60, {1: "x"}, object()])
def test_canonical_json_refuses_what_it_cannot_represent(bad):
    with pytest.raises((ValueError, TypeError)):
        canonical_json({"v": bad} if not isinstance(bad, dict) else bad)


# --- the site key -----------------------------------------------------------------------------
def test_key_created_once_with_private_mode(tmp_path):
    key = load_or_create_key(str(tmp_path))
    path = tmp_path / KEY_FILENAME
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = load_or_create_key(str(tmp_path))
    assert again.public_bytes == key.public_bytes
    assert key.multibase.startswith("z6Mk")
    assert b58decode(key.multibase[1:])[2:] == key.public_bytes


def _load_in_process(path: str, queue) -> None:
    queue.put(load_or_create_key(path).multibase)


def test_concurrent_workers_agree_on_one_key(tmp_path):
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_load_in_process, args=(str(tmp_path), queue)) for _ in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=30)
    results = {queue.get(timeout=5) for _ in procs}
    assert len(results) == 1
    assert [f for f in os.listdir(tmp_path) if not f.startswith(".")] == [KEY_FILENAME]


def test_jwks_published(app, client):
    body = client.get("/.well-known/educluster-keys.json").get_json()
    (jwk,) = body["keys"]
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["alg"] == "EdDSA"
    with app.app_context():
        key = site_key()
        assert jwk["kid"] == key.verification_method
        import base64

        assert base64.urlsafe_b64decode(jwk["x"] + "=") == key.public_bytes
    assert "d" not in jwk  # never the private part


# --- credentials ------------------------------------------------------------------------------
@pytest.fixture
def credential(app):
    with app.app_context():
        people = cluster()
        complete(people["employee"], people["course"], grade=87.5)
        db.session.commit()
        cert = db.session.scalar(select(Certificate))
        return signed_credential(cert)


def test_credential_shape(app, credential):
    doc = credential
    assert doc["@context"] == [VC_CONTEXT, OB_CONTEXT]
    assert doc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert doc["issuer"]["id"] and doc["issuer"]["name"] == "EduCluster" and doc["issuer"]["url"]
    assert doc["validFrom"].endswith("Z") and "validUntil" not in doc
    subject = doc["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    ident = subject["identifier"][0]
    assert ident["type"] == "IdentityObject" and ident["hashed"] is True
    assert ident["identityHash"].startswith("sha256$") and "emp@acme.test" not in json.dumps(doc)
    import hashlib

    expected = hashlib.sha256(("emp@acme.test" + ident["salt"]).encode()).hexdigest()
    assert ident["identityHash"] == "sha256$" + expected
    achievement = subject["achievement"]
    assert (
        achievement["type"] == ["Achievement"]
        and achievement["name"] == "Statistical Process Control"
    )
    assert achievement["criteria"]["narrative"]
    assert subject["result"][0]["value"] == "87.5"
    assert (
        doc["credentialStatus"]["id"].endswith(".json")
        and "/verify/" in doc["credentialStatus"]["id"]
    )
    proof = doc["proof"]
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-jcs-2022"
    assert proof["proofPurpose"] == "assertionMethod" and proof["proofValue"].startswith("z")
    assert len(b58decode(proof["proofValue"][1:])) == 64


def test_genuine_credential_verifies(app, credential):
    with app.app_context():
        assert verify_credential(credential) == (True, "valid")
        # the JSON file as downloaded and re-read verifies too
        assert verify_credential(json.loads(json.dumps(credential, indent=2)))[0]


def _set(doc, path, value):
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


ALTERATIONS = [
    (("name",), "Advanced Statistical Process Control"),
    (("credentialSubject", "achievement", "name"), "Nuclear Safety"),
    (("credentialSubject", "achievement", "criteria", "narrative"), "Nothing at all."),
    (("credentialSubject", "result", 0, "value"), "100"),
    (("credentialSubject", "identifier", 0, "identityHash"), "sha256$" + "0" * 64),
    (("validFrom",), "2020-01-01T00:00:00Z"),
    (("validUntil",), "2099-01-01T00:00:00Z"),
    (("issuer", "name"), "Harvard"),
    (("id",), None),  # replaced below by another code
    (("proof", "created"), "2020-01-01T00:00:00Z"),
    (("proof", "proofValue"), None),  # replaced below by a flipped signature
    (("proof", "cryptosuite"), "ecdsa-jcs-2019"),
    (("proof", "verificationMethod"), "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
]


def test_altered_credentials_are_not_valid(app, credential):
    """Any field changed (name, grade, dates, subject, issuer) or the proof: not valid."""
    for path, value in ALTERATIONS:
        doc = copy.deepcopy(credential)
        if path == ("id",):
            value = doc["id"][:-1] + ("A" if doc["id"][-1] != "A" else "B")
        if path == ("proof", "proofValue"):
            pv = doc["proof"]["proofValue"]
            value = pv[:10] + ("2" if pv[10] != "2" else "3") + pv[11:]
        _set(doc, path, value)
        with app.app_context():
            ok, reason = verify_credential(doc)
        assert ok is False, path
        assert reason, path


def test_removed_proof_or_extra_field_is_not_valid(app, credential):
    with app.app_context():
        no_proof = {k: v for k, v in credential.items() if k != "proof"}
        assert verify_credential(no_proof) == (False, "The credential has no proof.")
        extra = copy.deepcopy(credential)
        extra["credentialSubject"]["achievement"]["fieldOfStudy"] = "Surgery"
        assert verify_credential(extra)[0] is False


def test_credential_signed_with_another_key_is_not_valid(app, credential):
    other = SigningKey(Ed25519PrivateKey.generate())
    doc = {k: v for k, v in credential.items() if k != "proof"}
    with app.app_context():
        app.extensions["lms.signing_key"], real = other, site_key()
        forged = sign_credential(doc)  # a perfect signature, by a key that is not ours
        app.extensions["lms.signing_key"] = real
        ok, reason = verify_credential(forged)
        assert not ok and "not signed with this site's published key" in reason
        # claiming our key id while signing with another key fails on the signature
        forged["proof"]["verificationMethod"] = real.verification_method
        ok, reason = verify_credential(forged)
        assert not ok and "signature does not match" in reason


def test_revoked_and_expired_certificates_are_not_valid(app, credential):
    with app.app_context():
        cert = db.session.scalar(select(Certificate))
        cert.revoked_at, cert.revoke_reason = utcnow(), "Issued by mistake"
        db.session.commit()
        ok, reason = verify_credential(credential)
        assert not ok and "revoked" in reason and "Issued by mistake" in reason
        cert.revoked_at = None
        cert.expires_at = utcnow() - timedelta(days=1)
        db.session.commit()
        ok, reason = verify_credential(credential)
        assert not ok and "expired" in reason


def test_garbage_is_not_valid(app):
    junk = [None, [], "x", 1, {}, {"@context": "x"},
            {"@context": [VC_CONTEXT], "type": ["VerifiableCredential"]},
            {"@context": [VC_CONTEXT], "type": ["OpenBadgeCredential"], "proof": "x"}]  # fmt: skip
    with app.app_context():
        for doc in junk:
            ok, reason = verify_credential(doc)
            assert ok is False and reason, doc


def test_download_then_verify_through_the_page_and_json_endpoint(app, client, credential):
    from tests.trust_helpers import login

    login(client, "emp@acme.test")
    code = credential["id"].rsplit("/", 1)[-1]
    download = client.get(f"/certificates/{code}/credential.json")
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    doc = json.loads(download.data)
    with app.app_context():
        assert verify_credential(doc) == (True, "valid")

    client.post("/auth/logout")
    page = client.get("/verify/credential")
    assert page.status_code == 200
    pasted = client.post("/verify/credential", data={"credential": download.data.decode()})
    assert pasted.status_code == 200 and "Valid credential" in pasted.get_data(as_text=True)
    uploaded = client.post(
        "/verify/credential",
        data={"file": (io.BytesIO(download.data), "badge.json")},
        content_type="multipart/form-data",
    )
    assert "Valid credential" in uploaded.get_data(as_text=True)
    doc["credentialSubject"]["achievement"]["name"] = "Something else"
    altered = client.post("/verify/credential", data={"credential": json.dumps(doc)})
    html = altered.get_data(as_text=True)
    assert "Not valid" in html and "altered or forged" in html
    not_json = client.post("/verify/credential", data={"credential": "{not json"})
    assert not_json.status_code == 400 and "not valid JSON" in not_json.get_data(as_text=True)
    empty = client.post("/verify/credential", data={"credential": ""})
    assert empty.status_code == 400

    api = client.post("/verify/credential.json", json=json.loads(download.data))
    assert api.get_json() == {"valid": True, "reason": "valid"}
    api_bad = client.post("/verify/credential.json", json=doc)
    assert api_bad.get_json()["valid"] is False
    assert client.post("/verify/credential.json", data="nope").status_code == 400
