"""Reading a number the way a person writes it: pure functions, no database.

Learners type ``2 %``, ``42,5``, ``1 234,5``, ``1,234.5``, ``9.81 m/s²`` or ``€ 12``. The number is
read, the unit after it is kept aside (a quiz's numeric answer has no unit, so any unit is
accepted), a percent sign is remembered (``2 %`` is right for the answer 2 and for 0.02), and a
form that could mean two numbers (``1,234``: 1234 with a thousands comma, or 1.234 with a
decimal comma) counts as either. What cannot be read as one number is refused with a message
saying how to write it, before it costs an attempt.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

# The number part: an optional sign, digits with any separators a person uses, an exponent.
_LEADING = re.compile(
    r"^(?P<sign>[+-]?)\s*(?P<body>(?:\d[\d.,' ]*)?\d|\.\d+|\d+[.,])(?P<exp>[eE][+-]?\d+)?"
)
# A unit after the number: letters (any script), degree and micro signs, superscripts, "/", "^2",
# "·", parentheses, a percent or per-mille sign. No bare digits, so "3 4" or "0x10" is not a unit.
_UNIT = re.compile(r"^(?!\^)(?:[^\W\d_]|[°µ%‰/·*().\-\s]|\^-?\d+)+$")
_SUPERSCRIPTS = re.compile("[\u207b\u2070\u00b9\u00b2\u00b3\u2074-\u2079]+")
_CURRENCY = "$€£¥₹₽₩"
_GROUPED = re.compile(r"^\d{1,3}(?:(?P<sep>[.,' ])\d{3})(?:(?P=sep)\d{3})*$")


class NumberProblem(ValueError):
    """Text that cannot be read as one number; the message says how to write it."""


@dataclass(frozen=True)
class Reading:
    """A number as read: its value (and another reading, for ``1,234``), and whether it was
    written as a percentage."""

    value: float
    percent: bool = False
    alternative: float | None = None

    def candidates(self) -> tuple[float, ...]:
        """The values the learner may mean: ``2 %`` is 2 (percent points) or 0.02."""
        values = (self.value,) if self.alternative is None else (self.value, self.alternative)
        return values + tuple(v / 100 for v in values) if self.percent else values


def _normalise(text: str) -> str:
    # Superscripts first ("m/s²" -> "m/s^2"): NFKC would make them plain digits.
    text = _SUPERSCRIPTS.sub(lambda m: "^" + unicodedata.normalize("NFKC", m[0]), text)
    s = unicodedata.normalize("NFKC", text).strip()
    # Typographic minus, and the spaces people group digits with (thin, no-break, narrow).
    s = s.replace("\u2212", "-").replace("\u00a0", " ").replace("\u202f", " ")
    s = s.replace("\u2009", " ").replace("\u2019", "'").replace("_", "")
    return re.sub(r"\s+", " ", s)


def _digits(body: str) -> str:
    """The body as ``float()`` reads it (``1234.5``), or :class:`NumberProblem`; for ``1,234``
    the decimal-comma reading (see :func:`read_number` for the other)."""
    body = body.strip()
    if re.fullmatch(r"\d+", body):
        return body
    if body.startswith("."):
        return body
    last = max(body.rfind("."), body.rfind(","))
    if last < 0:  # digits grouped by spaces or apostrophes only: "1 234", "1'234'567"
        if _GROUPED.match(body):
            return re.sub(r"[' ]", "", body)
        raise NumberProblem(f"“{body}” is not one number.")
    head, mark, tail = body[:last], body[last], body[last + 1 :]
    others = set(re.sub(r"\d", "", head))
    if not others:
        # One separator: "2,5" / "2.5" / "5." are decimals ("1,234" may also be 1234).
        if " " in body or "'" in body:
            raise NumberProblem(f"“{body}” is not a number.")
        return f"{head}.{tail}"
    # Several separators: all but the last group digits in threes ("1 234 567,5", "1,234.5"),
    # or all of them do ("1.234.567", "1 234").
    if _GROUPED.match(body):
        return re.sub(r"[.,' ]", "", body)
    if mark in ".," and mark not in others and _GROUPED.match(head):
        return re.sub(r"[.,' ]", "", head) + "." + tail
    raise NumberProblem(f"“{body}” is not a number: check the separators between the digits.")


def read_number(text: Any) -> Reading:
    """Read what a learner typed as a number; :class:`NumberProblem` says why it cannot be."""
    if isinstance(text, bool) or text is None:
        raise NumberProblem("Enter a number.")
    if isinstance(text, int | float):
        if not math.isfinite(text):
            raise NumberProblem("Enter a finite number.")
        return Reading(float(text))
    s = _normalise(str(text)).strip(_CURRENCY + " ")
    if not s:
        raise NumberProblem("Enter a number.")
    match = _LEADING.match(s)
    if match is None:
        raise NumberProblem(f"“{s[:40]}” is not a number. Write digits, e.g. 42.5 or 42,5.")
    rest = s[match.end() :].strip()
    if rest and not _UNIT.match(rest):
        raise NumberProblem(
            f"“{s[:40]}” is not one number. Write a single number, optionally followed by a "
            "unit or %."
        )
    sign, body, exp = match["sign"], match["body"], match["exp"] or ""
    value = float(sign + _digits(body) + exp)
    if not math.isfinite(value):
        raise NumberProblem("Enter a finite number.")
    alternative = None
    if re.fullmatch(r"[1-9]\d{0,2},\d{3}", body):  # "1,234": a thousands comma, or a decimal one
        alternative = float(sign + body.replace(",", "") + exp)
    return Reading(value, percent=rest.startswith("%"), alternative=alternative)


def parse_number(text: Any) -> float | None:
    """A finite number from what a learner typed, or ``None`` (``3,14`` reads as 3.14)."""
    try:
        return read_number(text).value
    except NumberProblem:
        return None


def number_problem(text: Any) -> str | None:
    """Why ``text`` cannot be read as a number, or ``None`` when it can (or is empty)."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    try:
        read_number(text)
    except NumberProblem as exc:
        return str(exc)
    return None
