"""Open Badges 3.0 credentials (W3C Verifiable Credentials v2), signed with the site's key.

The proof is an embedded Data Integrity proof, cryptosuite ``eddsa-jcs-2022``: the document
without its proof and the proof options (with the document's ``@context``) are each put in RFC
8785 canonical form and hashed with SHA-256; Ed25519 signs ``hash(proof options) || hash(document)``
and ``proofValue`` is the signature in multibase base58btc.

:func:`verify_credential` checks the structure, that the proof names *this site's* published key,
the signature, and the certificate's current status (revoked or expired credentials are not
valid even when the signature is).
"""

from __future__ import annotations

import copy
import hashlib
from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from lms.credentials.canonical import canonical_bytes
from lms.credentials.certificates import find_certificate
from lms.credentials.keys import (
    b58decode,
    b58encode,
    public_bytes_from_multibase,
    site_key,
    verify_signature,
)
from lms.credentials.models import Certificate
from lms.timeutil import utcnow
from lms.urls import site_url

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CRYPTOSUITE = "eddsa-jcs-2022"
MAX_CREDENTIAL_BYTES = 64 * 1024
_SKEW = timedelta(minutes=5)  # clock difference tolerated on validFrom


def _z(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat() + "Z"


def _parse_z(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.endswith("Z"):
        return None
    try:
        return datetime.fromisoformat(value[:-1])
    except ValueError:
        return None


def identity_hash(email: str, salt: str) -> str:
    """OB 3.0 IdentityObject hash: ``sha256$`` + hex SHA-256 of the address and the salt."""
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode("utf-8")).hexdigest()


def _salt(cert: Certificate) -> str:
    # Stable per certificate (re-downloads are identical) yet different between certificates, so
    # two credentials cannot be linked to one person by comparing hashes.
    secret = current_app.config["SECRET_KEY"].encode("utf-8")
    return hashlib.sha256(secret + b"ob3-salt:" + cert.code.encode("ascii")).hexdigest()[:32]


def issuer_profile() -> dict:
    """The issuer Profile: the EduCluster site (the partners are named in the achievement)."""
    return {
        "id": f"{site_url()}/certificates/issuer.json",
        "type": ["Profile"],
        "name": current_app.config.get("SITE_NAME", "EduCluster"),
        "url": site_url() + "/",
    }


def build_credential(cert: Certificate) -> dict:
    """The unsigned OpenBadgeCredential for ``cert``."""
    base = site_url()
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": f"{base}/verify/{cert.code}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": cert.title,
        "issuer": issuer_profile(),
        "validFrom": _z(cert.issued_at),
        "credentialSubject": _subject(cert, _achievement(cert, base)),
        "credentialStatus": {
            "id": f"{base}/verify/{cert.code}.json",
            "type": "EduClusterCertificateStatus",
        },
    }
    if cert.expires_at is not None:
        credential["validUntil"] = _z(cert.expires_at)
    return credential


def _achievement(cert: Certificate, base: str) -> dict[str, Any]:
    """What was achieved: the course or program, its criteria and, with a grade, how it is read."""
    achievement_id = (
        f"{base}/achievements/course/{cert.course_id}"
        if cert.kind == "course"
        else f"{base}/achievements/program/{cert.program_id}"
    )
    partners = ", ".join(cert.partner_names)
    narrative = (
        f"Completed every requirement of the {cert.kind} “{cert.title}”"
        + (f", co-designed by {partners}" if partners and cert.kind == "course" else "")
        + (f", run by {partners}" if partners and cert.kind == "program" else "")
        + "."
    )
    achievement: dict[str, Any] = {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "name": cert.title,
        "description": cert.description or narrative,
        "criteria": {"narrative": narrative},
        "creator": issuer_profile(),
    }
    if cert.grade is not None:
        achievement["resultDescription"] = [
            {
                "id": f"{achievement_id}#grade",
                "type": ["ResultDescription"],
                "name": "Final grade",
                "resultType": "Percent",
                "valueMin": "0",
                "valueMax": "100",
            }
        ]
    return achievement


def _subject(cert: Certificate, achievement: dict[str, Any]) -> dict[str, Any]:
    """Who achieved it (a salted hash of their email, never the address) and their grade."""
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "identityHash": identity_hash(cert.user.email, _salt(cert)),
                "identityType": "emailAddress",
                "hashed": True,
                "salt": _salt(cert),
            }
        ],
        "achievement": achievement,
    }
    if cert.grade is not None:
        result_id = achievement["resultDescription"][0]["id"]
        subject["result"] = [
            {"type": ["Result"], "resultDescription": result_id, "value": f"{cert.grade:g}"}
        ]
    return subject


def _hash_data(document: dict, proof_options: dict) -> bytes:
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    options = {k: v for k, v in proof_options.items() if k != "proofValue"}
    options["@context"] = document["@context"]
    return (
        hashlib.sha256(canonical_bytes(options)).digest()
        + hashlib.sha256(canonical_bytes(unsecured)).digest()
    )


def sign_credential(document: dict, created: datetime | None = None) -> dict:
    """``document`` with an embedded eddsa-jcs-2022 DataIntegrityProof by the site's key."""
    key = site_key()
    signed = copy.deepcopy(document)
    proof = {
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": _z(created or utcnow()),
        "verificationMethod": key.verification_method,
        "proofPurpose": "assertionMethod",
    }
    proof["proofValue"] = "z" + b58encode(key.sign(_hash_data(signed, proof)))
    signed["proof"] = proof
    return signed


def signed_credential(cert: Certificate) -> dict:
    """The downloadable credential: built and signed (the proof dated at issue)."""
    return sign_credential(build_credential(cert), created=cert.issued_at)


def _check_signature(doc: dict) -> str | None:
    """None when the proof verifies with this site's key; otherwise why not."""
    proof = doc.get("proof")
    if isinstance(proof, list) and len(proof) == 1:
        proof = proof[0]
    if not isinstance(proof, dict):
        return "The credential has no proof."
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != CRYPTOSUITE:
        return f"The proof is not a DataIntegrityProof with cryptosuite {CRYPTOSUITE}."
    if proof.get("proofPurpose") != "assertionMethod":
        return "The proof was not made for asserting a credential."
    method = proof.get("verificationMethod")
    key = site_key()
    if method != key.verification_method:
        return "The credential was not signed with this site's published key."
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        return "The proof value is not base58btc multibase."
    try:
        signature = b58decode(value[1:])
        public = public_bytes_from_multibase(method.split("#", 1)[-1])
        data = _hash_data(doc, proof)
    except (ValueError, TypeError):
        return "The credential contains values that cannot be verified."
    if not verify_signature(public, signature, data):
        return "The signature does not match: the credential was altered or forged."
    return None


def verify_credential(doc: Any) -> tuple[bool, str]:
    """Check a credential: structure, signature by the site's key, certificate status.

    Returns ``(True, "valid")`` or ``(False, reason)`` where the reason is written for people.
    """
    if not isinstance(doc, dict):
        return False, "This is not a JSON credential object."
    types = doc.get("type")
    if doc.get("@context", [None])[:1] != [VC_CONTEXT] or not isinstance(types, list):
        return False, "This is not a W3C Verifiable Credential."
    if "OpenBadgeCredential" not in types:
        return False, "This is not an Open Badges credential."
    problem = _check_signature(doc)
    if problem:
        return False, problem
    credential_id = doc.get("id")
    prefix = f"{site_url()}/verify/"
    if not isinstance(credential_id, str) or not credential_id.startswith(prefix):
        return False, "The credential was not issued by this site."
    cert = find_certificate(credential_id[len(prefix) :])
    if cert is None:
        return False, "No certificate with this code exists."
    now = utcnow()
    if cert.revoked_at is not None:
        return (
            False,
            f"The certificate was revoked on {cert.revoked_at:%d %b %Y}: {cert.revoke_reason}",
        )
    valid_until = _parse_z(doc.get("validUntil"))
    if (cert.expires_at and cert.expires_at <= now) or (valid_until and valid_until <= now):
        return False, "The certificate has expired."
    valid_from = _parse_z(doc.get("validFrom"))
    if valid_from is None or valid_from > now + _SKEW:
        return False, "The credential is not valid yet."
    return True, "valid"
