"""Grading lab submissions: output comparison, test runs in the sandbox, the grade report.

Pure where possible (``compare`` and ``scoring``): ``compare_output``, ``validate_tests``, ``score_of``
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

import json
import secrets
from collections.abc import Mapping, Sequence

from .compare import (
    COMPARE_MODES,
    REGEX_FLAGS,
    REGEX_MAX_LENGTH,
    compare_output,
    explain_mismatch,
    regex_problem,
)
from .sandbox import Limits, Prepared, RunResult, RunVerdict, prepare
from .scoring import (  # the pure half, re-exported: grading's vocabulary
    HARNESS_FILE,
    HARNESS_SOURCE,
    TESTS_FILE,
    GradeReport,
    GradeVerdict,
    InvalidTests,
    TestOutcome,
    TestSpec,
    _limit_message,
    _outcome,
    overall_verdict,
    score_of,
    unit_test_names,
    validate_tests,
)

__all__ = [
    "COMPARE_MODES",
    "REGEX_FLAGS",
    "REGEX_MAX_LENGTH",
    "GradeReport",
    "GradeVerdict",
    "InvalidTests",
    "TestOutcome",
    "TestSpec",
    "compare_output",
    "explain_mismatch",
    "grade_submission",
    "overall_verdict",
    "regex_problem",
    "score_of",
    "unit_test_names",
    "validate_lab",
    "validate_tests",
]


# --- running tests ----------------------------------------------------------------------------
def _run_io(prepared: Prepared, test: TestSpec, limits: Limits) -> TestOutcome:
    run = prepared.run(test.stdin, test.args, limits)
    if run.verdict != RunVerdict.OK:
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
    verdict = (
        GradeVerdict.SANDBOX_ERROR
        if result.verdict == RunVerdict.SANDBOX_ERROR
        else GradeVerdict.COMPILE_ERROR
    )
    message = (
        "The program does not compile." if verdict == GradeVerdict.COMPILE_ERROR else result.stderr
    )
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
