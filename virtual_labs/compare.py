"""Comparing a program's output with the expected output (pure functions).

``compare_output`` implements the test comparison modes; ``regex_problem`` guards the regex mode
against patterns an author could write that take exponential time (Python's ``re`` cannot be
interrupted, so risky patterns are refused when the lab is saved and never run).
"""

from __future__ import annotations

import math
import re

try:  # the regular expression parser (re._parser since 3.11, sre_parse before)
    from re import _parser as _sre_parser
except ImportError:  # pragma: no cover
    import sre_parse as _sre_parser

COMPARE_MODES = ("exact", "trailing_ws", "case_insensitive", "numeric", "regex")
REGEX_MAX_LENGTH = 2000
REGEX_FLAGS = re.DOTALL | re.MULTILINE


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _numbers_match(expected: str, actual: str, tolerance: float) -> bool:
    try:
        a, b = float(expected), float(actual)
    except ValueError:
        return expected == actual
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)


def compare_output(expected: str, actual: str, mode: str = "trailing_ws", tolerance=1e-6) -> bool:
    """Whether ``actual`` output matches ``expected`` under ``mode`` (see COMPARE_MODES).

    - exact: byte for byte; trailing_ws: ignoring trailing spaces on each line and trailing
      blank lines (and CRLF vs LF); case_insensitive: trailing_ws, ignoring case;
    - numeric: same whitespace-separated tokens, numbers equal within ``tolerance`` (absolute
      or relative), other tokens exactly;
    - regex: ``expected`` is a pattern that must match the whole output (trailing whitespace
      ignored), with DOTALL and MULTILINE. Unsafe patterns (see ``regex_problem``) never match.
    """
    if mode == "exact":
        return expected == actual
    if mode == "trailing_ws":
        return _lines(expected) == _lines(actual)
    if mode == "case_insensitive":
        return [x.casefold() for x in _lines(expected)] == [x.casefold() for x in _lines(actual)]
    if mode == "numeric":
        exp, act = expected.split(), actual.split()
        return len(exp) == len(act) and all(
            _numbers_match(e, a, tolerance) for e, a in zip(exp, act, strict=True)
        )
    if mode == "regex":
        if regex_problem(expected):
            return False
        return re.fullmatch(expected, actual.rstrip(), REGEX_FLAGS) is not None
    raise ValueError(f"unknown compare mode {mode!r}")


def explain_mismatch(expected: str, actual: str, mode: str, tolerance=1e-6) -> str:
    """A short learner-facing hint about where a visible test's output differs."""
    if not actual.strip():
        return "The program printed nothing."
    if mode == "numeric":
        exp, act = expected.split(), actual.split()
        if len(exp) != len(act):
            return f"Expected {len(exp)} values, got {len(act)}."
        for index, (e, a) in enumerate(zip(exp, act, strict=True), 1):
            if not _numbers_match(e, a, tolerance):
                return f"Value {index} differs: expected {e}, got {a} (tolerance {tolerance:g})."
    if mode == "regex":
        return "The output does not match the expected pattern."
    fold = mode == "case_insensitive"
    exp_lines, act_lines = _lines(expected), _lines(actual)
    if mode == "exact" and exp_lines == act_lines:
        return "The output differs only in whitespace or line endings (exact comparison)."
    for number, (e, a) in enumerate(zip(exp_lines, act_lines, strict=False), 1):
        if (e.casefold() != a.casefold()) if fold else (e != a):
            return f"Line {number} differs."
    if len(exp_lines) != len(act_lines):
        return f"Expected {len(exp_lines)} lines, got {len(act_lines)}."
    return "The output differs from the expected output."


_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
_CATEGORY_TESTS = {
    "CATEGORY_DIGIT": str.isdigit,
    "CATEGORY_NOT_DIGIT": lambda c: not c.isdigit(),
    "CATEGORY_SPACE": str.isspace,
    "CATEGORY_NOT_SPACE": lambda c: not c.isspace(),
    "CATEGORY_WORD": lambda c: c.isalnum() or c == "_",
    "CATEGORY_NOT_WORD": lambda c: not (c.isalnum() or c == "_"),
}


def _subpatterns(op: str, av) -> list:
    """The nested (sub)patterns of one parsed regex item."""
    if op in _REPEATS:
        return [av[2]]
    if op == "SUBPATTERN":
        return [av[-1]]
    if op == "BRANCH":
        return list(av[1])
    if op in ("ASSERT", "ASSERT_NOT"):
        return [av[1]]
    return []


def _can_match(op: str, av, char: str) -> bool:
    """Whether a single-character item can match ``char`` (conservatively True if unsure)."""
    code = ord(char)
    if op == "LITERAL":
        return av == code
    if op == "NOT_LITERAL":
        return av != code
    if op == "IN":
        negate, hit = False, False
        for item_op, item_av in av:
            name = str(item_op)
            if name == "NEGATE":
                negate = True
            elif name == "LITERAL":
                hit = hit or item_av == code
            elif name == "RANGE":
                hit = hit or item_av[0] <= code <= item_av[1]
            elif name == "CATEGORY":
                hit = hit or _CATEGORY_TESTS.get(str(item_av), lambda c: True)(char)
            else:
                return True
        return hit != negate
    return True


def _repeated_items(sub, inside: bool = False) -> list:
    """The items that an unbounded repetition inside ``sub`` repeats (flattened)."""
    items = []
    for op, av in sub:
        name = str(op)
        repeats = inside or (name in _REPEATS and av[1] > 1)
        if not _subpatterns(name, av):
            if inside:
                items.append((name, av))
            continue
        for child in _subpatterns(name, av):
            items += _repeated_items(child, repeats)
    return items


def _delimited(body, repeated: list) -> bool:
    """Whether every iteration of ``body`` needs a literal that its inner repetitions cannot
    match, as in ``(, \\w+)*``: then iterations cannot be split in many ways."""
    for op, av in body:
        if str(op) == "SUBPATTERN" and _delimited(av[-1], repeated):
            return True
        if str(op) == "LITERAL":
            char = chr(av)
            if not any(_can_match(name, item, char) for name, item in repeated):
                return True
    return False


def _nested_repeat(sub) -> bool:
    """A repetition of something that itself repeats without a delimiter: ``(a+)+``."""
    for op, av in sub:
        name = str(op)
        if name in _REPEATS and av[1] > 1:
            repeated = _repeated_items(av[2])
            if repeated and not _delimited(av[2], repeated):
                return True
        if any(_nested_repeat(child) for child in _subpatterns(name, av)):
            return True
    return False


def regex_problem(pattern: str) -> str | None:
    """Why an author's pattern is refused (invalid, too long, or prone to catastrophic
    backtracking through a repetition nested in another), or ``None`` when it is fine."""
    if len(pattern) > REGEX_MAX_LENGTH:
        return f"the pattern is longer than {REGEX_MAX_LENGTH} characters"
    try:
        parsed = _sre_parser.parse(pattern, REGEX_FLAGS)
    except (re.error, RecursionError, OverflowError) as exc:
        return f"invalid regular expression: {exc}"
    if _nested_repeat(parsed):
        return "nested repetition such as (a+)+ can take exponential time: simplify the pattern"
    return None
