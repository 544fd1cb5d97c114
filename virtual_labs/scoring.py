"""The pure half of grading: test specs, outcomes and the report, test validation, scoring.

Plain data in, plain data out (no sandbox): ``grading`` runs the tests and uses these.
"""

from __future__ import annotations

import ast
import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .compare import COMPARE_MODES, regex_problem
from .sandbox import Limits, RunResult, RunVerdict

TEST_KINDS = ("io", "python_unit")


class GradeVerdict(enum.StrEnum):
    """How one test of a submission ended (and the submission's overall verdict)."""

    ACCEPTED = "accepted"
    WRONG_ANSWER = "wrong_answer"
    RUNTIME_ERROR = "runtime_error"
    TIME_LIMIT = "time_limit"
    MEMORY_LIMIT = "memory_limit"
    OUTPUT_LIMIT = "output_limit"
    SANDBOX_ERROR = "sandbox_error"
    COMPILE_ERROR = "compile_error"


TEST_VERDICTS = tuple(GradeVerdict)
STORED_OUTPUT_CHARS = 8000
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
        return self.verdict == GradeVerdict.ACCEPTED

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
        passed=verdict == GradeVerdict.ACCEPTED,
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
    if run.verdict == RunVerdict.TIME_LIMIT:
        return f"Time limit exceeded ({limits.cpu_s:g} s of CPU, {limits.wall_s:g} s in all)."
    if run.verdict == RunVerdict.MEMORY_LIMIT:
        return f"Memory limit exceeded ({limits.memory_mb} MB)."
    if run.verdict == RunVerdict.OUTPUT_LIMIT:
        return f"Output limit exceeded ({limits.output_kb} KB, files up to {limits.file_kb} KB)."
    if run.verdict == RunVerdict.SANDBOX_ERROR:
        return "The sandbox could not run this test; please try again later."
    tail = run.stderr.strip()[-2000:]
    code = f"signal {run.signal}" if run.signal else f"exit code {run.exit_code}"
    return f"The program stopped with {code}." + (f"\n{tail}" if tail else "")
