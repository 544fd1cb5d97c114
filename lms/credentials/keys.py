"""The site's Ed25519 signing key: created on first use in ``instance/``, published as JWKS.

The key signs Open Badges credentials. It is generated once and kept beside the database
(``instance/ed25519_signing_key.pem``, mode 0600); several workers starting together must end up
with one key, so it is written to a temporary file and *linked* into place, which fails if another
worker got there first (the O_EXCL idea, without ever exposing a half-written file).
"""

from __future__ import annotations

import base64
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app

KEY_FILENAME = "ed25519_signing_key.pem"
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_ED25519_PUB_MULTICODEC = b"\xed\x01"


def b58encode(data: bytes) -> str:
    """Bitcoin base58 (the ``z`` multibase alphabet)."""
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rem = divmod(number, 58)
        out = _B58[rem] + out
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + out


def b58decode(text: str) -> bytes:
    """Inverse of :func:`b58encode`; ``ValueError`` on characters outside the alphabet."""
    number = 0
    for ch in text:
        index = _B58.find(ch)
        if index < 0:
            raise ValueError("not base58btc")
        number = number * 58 + index
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    pad = len(text) - len(text.lstrip("1"))
    return b"\0" * pad + body


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    """The private key and the public identifiers derived from it."""

    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        """Ed25519 public half of the signing key."""
        return self.private.public_key()

    @property
    def public_bytes(self) -> bytes:
        """Raw 32-byte public key."""
        return self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def multibase(self) -> str:
        """``z6Mk...``: the Multikey form (multicodec ed25519-pub, base58btc)."""
        return "z" + b58encode(_ED25519_PUB_MULTICODEC + self.public_bytes)

    @property
    def did(self) -> str:
        """did:key identifier of the issuer for this key."""
        return f"did:key:{self.multibase}"

    @property
    def verification_method(self) -> str:
        """What a proof names as its key (a did:key URL resolvable without our server)."""
        return f"{self.did}#{self.multibase}"

    def sign(self, data: bytes) -> bytes:
        """Ed25519 signature of the bytes."""
        return self.private.sign(data)

    def jwk(self) -> dict:
        """Public key as a JWK for the published key set."""
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": _b64url(self.public_bytes),
            "kid": self.verification_method,
            "use": "sig",
            "alg": "EdDSA",
        }


def verify_signature(public_bytes: bytes, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` is a valid Ed25519 signature of ``data`` by ``public_bytes``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_bytes).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def public_bytes_from_multibase(multibase: str) -> bytes:
    """The raw Ed25519 public key in a ``z6Mk...`` Multikey; ``ValueError`` if it is not one."""
    if not multibase.startswith("z"):
        raise ValueError("not a base58btc multibase value")
    raw = b58decode(multibase[1:])
    if not raw.startswith(_ED25519_PUB_MULTICODEC) or len(raw) != 34:
        raise ValueError("not an Ed25519 public key")
    return raw[2:]


def load_or_create_key(instance_path: str) -> SigningKey:
    """Read the site's key from ``instance_path``, generating it the first time."""
    path = Path(instance_path) / KEY_FILENAME
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".ed25519-")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
            # link() is atomic and refuses an existing name: the first worker wins, the others
            # read its key. Nobody ever sees a partially written file.
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise RuntimeError(f"{path} does not hold an Ed25519 private key")
    return SigningKey(private)


def site_key() -> SigningKey:
    """The current app's signing key (cached per app)."""
    app = current_app._get_current_object()
    key = app.extensions.get("lms.signing_key")
    if key is None:
        key = load_or_create_key(app.instance_path)
        app.extensions["lms.signing_key"] = key
    return key


def jwks() -> dict:
    """The public key set published at ``/.well-known/educluster-keys.json``."""
    return {"keys": [site_key().jwk()]}
