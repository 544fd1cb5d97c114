"""Canonical JSON (RFC 8785, "JCS") for hashing and signing.

The ledger hashes it and Open Badges credentials are signed over it (cryptosuite eddsa-jcs-2022),
so the same data must always give the same bytes, on every Python version and database.

Supported: ``dict`` with ``str`` keys, ``list``/``tuple``, ``str``, ``bool``, ``None``, ``int``
and ``float``. Limits (documented, enforced): integers must be within +/- 2**53 (what an
ECMAScript number holds exactly), NaN and infinities are refused, and anything else (datetimes,
Decimals, bytes) must be converted by the caller: a ``TypeError`` rather than a silent ``str()``.
"""

from __future__ import annotations

import math
from typing import Any

_SAFE_INT = 2**53
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def _string(value: str) -> str:
    out = ['"']
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _number(value: float) -> str:
    """ECMAScript Number::toString, which RFC 8785 prescribes, from Python's shortest repr."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError("NaN and infinity have no JSON form")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr() gives the shortest digits that round-trip, like ECMAScript; re-lay them out.
    mantissa, _, exp = repr(abs(value)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    # n: position of the decimal point relative to the first significant digit
    n = (
        len(int_part.lstrip("0"))
        if int_part.strip("0")
        else -(len(frac_part) - len(frac_part.lstrip("0")))
    )
    n += int(exp or 0)
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    e_str = f"e+{e}" if e >= 0 else f"e-{-e}"
    if k == 1:
        return sign + digits + e_str
    return sign + digits[0] + "." + digits[1:] + e_str


def _encode(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if abs(value) > _SAFE_INT:
            raise ValueError(f"integer {value} is outside the exact JSON number range")
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_number(value))
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
        out.append("{")
        # RFC 8785: members sorted by the UTF-16 code units of their names.
        for i, key in enumerate(sorted(value, key=lambda k: k.encode("utf-16-be"))):
            if i:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _encode(value[key], out)
        out.append("}")
    else:
        raise TypeError(f"{type(value).__name__} is not canonical-JSON serialisable")


def canonical_json(value: Any) -> str:
    """The RFC 8785 canonical form of ``value`` as text."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out)


def canonical_bytes(value: Any) -> bytes:
    """The RFC 8785 canonical form of ``value`` as UTF-8 bytes (what gets hashed)."""
    return canonical_json(value).encode("utf-8")
