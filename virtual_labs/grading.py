"""Grading lab submissions: output comparison, test runs in the sandbox, the grade report.

Pure where possible: ``compare_output``, ``explain_mismatch``, ``validate_tests`` and ``score_of``
take plain data. ``grade_submission`` compiles once (``sandbox.prepare``) and runs every test in
its own fresh box:

- ``io`` tests feed ``stdin`` and ``args`` to the program and compare its stdout with
  ``expected`` by the test's ``compare`` mode;
- ``python_unit`` tests run the author's ``test*`` functions against the learner's ``main.py``
  inside the box through ``unit_harness`` (one box per test spec; each function is its own
  outcome, so a spec with three test functions gives three rows sharing the spec's weight).

Hidden tests report pass/fail and the verdict only: never their input, expected or actual output,
or any message (which could quote them).
"""

from __future__ import annotations

import ast
import json
import math
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .sandbox import Limits, Prepared, RunResult, prepare

try:  # the regular expression parser (re._parser since 3.11, sre_parse before)
    from re import _parser as _sre_parser
except ImportError:  # pragma: no cover
    import sre_parse as _sre_parser

COMPARE_MODES = ("exact", "trailing_ws", "case_insensitive", "numeric", "regex")
TEST_KINDS = ("io", "python_unit")
TEST_VERDICTS = (
    "accepted",
    "wrong_answer",
    "runtime_error",
    "time_limit",
    "memory_limit",
    "output_limit",
    "sandbox_error",
    "compile_error",
)
REGEX_MAX_LENGTH = 2000
STORED_OUTPUT_CHARS = 8000
REGEX_FLAGS = re.DOTALL | re.MULTILINE
HARNESS_SOURCE = (Path(__file__).with_name("unit_harness.py")).read_text(encoding="utf-8")
HARNESS_FILE = "_lab_harness.py"
TESTS_FILE = "_lab_tests.py"


@dataclass(frozen=True)
class TestSpec:
    """One test of a lab, as authored."""

    __test__ = False  # not a pytest test class

    name: str
    kind: str = "io"  # "io" | "python_unit"
    stdin: str = ""
    args: tuple[str, ...] = ()
    expected: str = ""
    compare: str = "trailing_ws"  # see COMPARE_MODES
    tolerance: float = 1e-6
    code: str = ""  # python_unit: test functions (test_*) with plain asserts
    hidden: bool = False
    weight: float = 1.0

    def to_dict(self) -> dict:
        data = asdict(self)
        data["args"] = list(self.args)
        return data

    @classmethod
    def from_dict(cls, data: Mapping) -> TestSpec:
        values = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        if "args" in values:
            values["args"] = tuple(str(a) for a in values["args"] or ())
        return cls(**values)


@dataclass(frozen=True)
class TestOutcome:
    """The result of one test (hidden ones carry no expected/actual/message)."""

    __test__ = False

    name: str
    verdict: str
    passed: bool
    hidden: bool = False
    weight: float = 1.0
    expected: str | None = None
    actual: str | None = None
    message: str = ""
    cpu_s: float = 0.0
    wall_s: float = 0.0
    memory_kb: int = 0

    def to_dict(self) -> dict:
        data = asdict(self)
        data["cpu_s"] = round(self.cpu_s, 4)
        data["wall_s"] = round(self.wall_s, 4)
        return data

    @classmethod
    def from_dict(cls, data: Mapping) -> TestOutcome:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class GradeReport:
    """A graded submission: overall verdict, score 0..100, one outcome per test."""

    verdict: str
    score: float
    tests: tuple[TestOutcome, ...] = field(default_factory=tuple)
    compile_output: str = ""

    @property
    def accepted(self) -> bool:
        return self.verdict == "accepted"

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "score": self.score,
            "tests": [t.to_dict() for t in self.tests],
            "compile_output": self.compile_output,
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> GradeReport:
        return cls(
            verdict=data["verdict"],
            score=float(data["score"]),
            tests=tuple(TestOutcome.from_dict(t) for t in data.get("tests", ())),
            compile_output=data.get("compile_output", ""),
        )


# --- comparing outputs (pure) -----------------------------------------------------------------
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


# --- validating tests (pure) ------------------------------------------------------------------
def unit_test_names(code: str) -> list[str]:
    """The ``test*`` functions defined at the top level of a python_unit test's code."""
    tree = ast.parse(code)
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test")
    ]


def validate_tests(tests: Sequence[TestSpec], language: str | None = None) -> list[str]:
    """Problems with a lab's tests as authored (empty when they are fine)."""
    problems = []
    if not tests:
        problems.append("Add at least one test.")
    seen = set()
    for number, test in enumerate(tests, 1):
        label = f"Test {number} ({test.name or 'unnamed'})"
        if not test.name.strip():
            problems.append(f"Test {number}: give it a name.")
        elif test.name in seen:
            problems.append(f"{label}: another test has the same name.")
        seen.add(test.name)
        if test.weight < 0 or not math.isfinite(test.weight):
            problems.append(f"{label}: the weight must be zero or more.")
        if test.kind not in TEST_KINDS:
            problems.append(f"{label}: unknown kind {test.kind!r}.")
        elif test.kind == "python_unit":
            if language not in (None, "python"):
                problems.append(f"{label}: Python unit tests need a Python lab.")
            try:
                if not unit_test_names(test.code):
                    problems.append(f"{label}: define at least one test_... function.")
            except SyntaxError as exc:
                problems.append(f"{label}: the test code has a syntax error (line {exc.lineno}).")
        elif test.compare not in COMPARE_MODES:
            problems.append(f"{label}: unknown comparison {test.compare!r}.")
        elif test.compare == "regex" and (problem := regex_problem(test.expected)):
            problems.append(f"{label}: {problem}.")
        elif test.compare == "numeric" and not (0 <= test.tolerance < math.inf):
            problems.append(f"{label}: the tolerance must be zero or more.")
    if tests and sum(t.weight for t in tests) <= 0:
        problems.append("At least one test needs a weight above zero.")
    return problems


class InvalidTests(ValueError):
    """The tests themselves are wrong (see ``validate_tests``)."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


# --- scoring (pure) ---------------------------------------------------------------------------
def score_of(outcomes: Sequence[TestOutcome]) -> float:
    """The weighted share of tests passed, 0..100 (100 when there is nothing to pass)."""
    total = sum(o.weight for o in outcomes)
    if total <= 0:
        return 100.0 if all(o.passed for o in outcomes) else 0.0
    return round(100.0 * sum(o.weight for o in outcomes if o.passed) / total, 2)


def overall_verdict(outcomes: Sequence[TestOutcome]) -> str:
    """``accepted`` when every test passed, else the first failing test's verdict."""
    for outcome in outcomes:
        if not outcome.passed:
            return outcome.verdict
    return "accepted"


def _outcome(
    test: TestSpec,
    verdict: str,
    *,
    name: str | None = None,
    weight: float | None = None,
    expected: str | None = None,
    actual: str | None = None,
    message: str = "",
    run: RunResult | None = None,
) -> TestOutcome:
    hidden = test.hidden
    return TestOutcome(
        name=name or test.name,
        verdict=verdict,
        passed=verdict == "accepted",
        hidden=hidden,
        weight=test.weight if weight is None else weight,
        expected=None if hidden else expected,
        actual=None if hidden else (actual[:STORED_OUTPUT_CHARS] if actual is not None else None),
        message="" if hidden else message,
        cpu_s=run.cpu_s if run else 0.0,
        wall_s=run.wall_s if run else 0.0,
        memory_kb=run.memory_kb if run else 0,
    )


def _limit_message(run: RunResult, limits: Limits) -> str:
    if run.verdict == "time_limit":
        return f"Time limit exceeded ({limits.cpu_s:g} s of CPU, {limits.wall_s:g} s in all)."
    if run.verdict == "memory_limit":
        return f"Memory limit exceeded ({limits.memory_mb} MB)."
    if run.verdict == "output_limit":
        return f"Output limit exceeded ({limits.output_kb} KB, files up to {limits.file_kb} KB)."
    if run.verdict == "sandbox_error":
        return "The sandbox could not run this test; please try again later."
    tail = run.stderr.strip()[-2000:]
    code = f"signal {run.signal}" if run.signal else f"exit code {run.exit_code}"
    return f"The program stopped with {code}." + (f"\n{tail}" if tail else "")


# --- running tests ----------------------------------------------------------------------------
def _run_io(prepared: Prepared, test: TestSpec, limits: Limits) -> TestOutcome:
    run = prepared.run(test.stdin, test.args, limits)
    if run.verdict != "ok":
        return _outcome(
            test,
            run.verdict,
            expected=test.expected,
            actual=run.stdout,
            message=_limit_message(run, limits),
            run=run,
        )
    if compare_output(test.expected, run.stdout, test.compare, test.tolerance):
        return _outcome(test, "accepted", expected=test.expected, actual=run.stdout, run=run)
    return _outcome(
        test,
        "wrong_answer",
        expected=test.expected,
        actual=run.stdout,
        message=explain_mismatch(test.expected, run.stdout, test.compare, test.tolerance),
        run=run,
    )


_UNIT_VERDICTS = {
    "passed": "accepted",
    "failed": "wrong_answer",
    "error": "runtime_error",
    "memory": "memory_limit",
}


def _run_unit(prepared: Prepared, test: TestSpec, limits: Limits) -> list[TestOutcome]:
    names = unit_test_names(test.code)
    share = test.weight / len(names) if names else test.weight
    label = (lambda fn: f"{test.name}: {fn}") if len(names) > 1 else (lambda fn: test.name)
    nonce = secrets.token_hex(16)
    interpreter = prepared.language.run[0]
    run = prepared.run(
        f"{nonce}\n{test.stdin}",
        test.args,
        limits,
        extra_files={HARNESS_FILE: HARNESS_SOURCE, TESTS_FILE: test.code},
        command=(interpreter, "-B", "-E", "-s", HARNESS_FILE),
    )
    results, setup = {}, None
    for line in run.stdout.splitlines():
        if not line.startswith(nonce):
            continue
        try:
            data = json.loads(line[len(nonce) :])
        except ValueError:
            continue
        if data.get("event") == "setup":
            setup = data
        elif data.get("test") in names and data["test"] not in results:
            results[data["test"]] = data
    outcomes = []
    for fn in names:
        data = results.get(fn) or setup
        if data is not None:
            verdict = _UNIT_VERDICTS.get(data.get("status"), "runtime_error")
            message = str(data.get("message", ""))
        elif run.verdict in ("time_limit", "memory_limit", "output_limit", "sandbox_error"):
            verdict, message = run.verdict, _limit_message(run, limits)
        else:
            verdict = "runtime_error"
            message = "The program ended before this test ran." + (
                f"\n{run.stderr.strip()[-2000:]}" if run.stderr.strip() else ""
            )
        outcomes.append(
            _outcome(test, verdict, name=label(fn), weight=share, message=message, run=run)
        )
    return outcomes


def _compile_failed(tests: Sequence[TestSpec], result: RunResult) -> GradeReport:
    verdict = "sandbox_error" if result.verdict == "sandbox_error" else "compile_error"
    message = "The program does not compile." if verdict == "compile_error" else result.stderr
    outcomes = []
    for test in tests:
        if test.kind == "python_unit":
            names = unit_test_names(test.code) or [test.name]
            for fn in names:
                name = f"{test.name}: {fn}" if len(names) > 1 else test.name
                outcomes.append(_outcome(test, verdict, name=name, weight=test.weight / len(names)))
        else:
            outcomes.append(_outcome(test, verdict, message=message))
    return GradeReport(
        verdict=verdict,
        score=0.0,
        tests=tuple(outcomes),
        compile_output=result.compile_output or result.stderr,
    )


def grade_submission(
    language: str,
    files: Mapping[str, str | bytes],
    tests: Sequence[TestSpec],
    limits: Limits | None = None,
) -> GradeReport:
    """Compile once, run every test in its own box, and report verdicts and the score."""
    with prepare(language, files, limits) as prepared:
        if not prepared.ok:
            return _compile_failed(tests, prepared.compile_result)
        run_limits = prepared.limits
        outcomes: list[TestOutcome] = []
        for test in tests:
            if test.kind == "python_unit":
                outcomes.extend(_run_unit(prepared, test, run_limits))
            else:
                outcomes.append(_run_io(prepared, test, run_limits))
        compile_output = prepared.compile_result.compile_output if prepared.compile_result else ""
    return GradeReport(
        verdict=overall_verdict(outcomes),
        score=score_of(outcomes),
        tests=tuple(outcomes),
        compile_output=compile_output,
    )


def validate_lab(
    language: str,
    reference_files: Mapping[str, str | bytes],
    tests: Sequence[TestSpec],
    limits: Limits | None = None,
) -> GradeReport:
    """Grade the reference solution: a lab is valid when the report is ``accepted``.

    Raises ``InvalidTests`` (with the list of problems) when the tests themselves are wrong.
    """
    problems = validate_tests(tests, language)
    if problems:
        raise InvalidTests(problems)
    return grade_submission(language, reference_files, tests, limits)
