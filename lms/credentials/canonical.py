"""Canonical JSON (RFC 8785, "JCS") for hashing and signing, through the ``rfc8785`` package.

The ledger hashes it and Open Badges credentials are signed over it (cryptosuite eddsa-jcs-2022),
so the same data must always give the same bytes, on every Python version and database; the
tests keep the RFC's own examples. Supported: ``dict`` with ``str`` keys, ``list``/``tuple``,
``str``, ``bool``, ``None``, ``int`` and ``float``. Everything else is refused with
``rfc8785.CanonicalizationError`` (a ``ValueError``): integers beyond +/- (2**53 - 1), NaN and
infinities, keys that are not text, and values the caller must convert first (datetimes,
Decimals, bytes), rather than a silent ``str()``.
"""

from __future__ import annotations

from typing import Any

import rfc8785


def canonical_bytes(value: Any) -> bytes:
    """The RFC 8785 canonical form of ``value`` as UTF-8 bytes (what gets hashed)."""
    return rfc8785.dumps(value)


def canonical_json(value: Any) -> str:
    """The RFC 8785 canonical form of ``value`` as text."""
    return canonical_bytes(value).decode("utf-8")
