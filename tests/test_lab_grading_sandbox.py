"""Grading submissions for real in the sandbox: io tests, Python unit tests, hidden tests."""

from __future__ import annotations

import json
import textwrap

import pytest

from virtual_labs.grading import InvalidTests, TestSpec, grade_submission, validate_lab
from virtual_labs.sandbox import Limits, sandbox_status

pytestmark = pytest.mark.sandbox

LIMITS = Limits(cpu_s=1, wall_s=2, memory_mb=128, procs=8)

ADD_IO = [
    TestSpec("small", stdin="2 3\n", expected="5\n"),
    TestSpec("negative", stdin="-2 2\n", expected="0\n", weight=2),
    TestSpec("secret", stdin="40 2\n", expected="42\n", hidden=True, weight=3),
]
UNIT = TestSpec(
    "functions",
    kind="python_unit",
    code=textwrap.dedent(
        """
        def test_adds():
            assert add(2, 3) == 5

        def test_negative():
            assert add(-1, -1) == -2, "negative numbers add up"

        def test_strings():
            from solution import add as imported
            assert imported("a", "b") == "ab"
        """
    ),
)


@pytest.fixture(autouse=True)
def _sandbox_required():
    ok, message = sandbox_status()
    if not ok:
        pytest.skip(f"sandbox unavailable: {message}")


def grade(source: str, tests, language: str = "python", filename: str = "main.py", limits=LIMITS):
    return grade_submission(language, {filename: textwrap.dedent(source)}, tests, limits)


def test_correct_io_solution_is_accepted():
    report = grade(
        "a, b = map(int, input().split())\nprint(a + b)\n",
        ADD_IO,
    )
    assert report.verdict == "accepted"
    assert report.score == 100.0
    assert [t.verdict for t in report.tests] == ["accepted"] * 3
    visible = report.tests[0]
    assert visible.expected == "5\n" and visible.actual == "5\n"
    assert visible.cpu_s > 0 and visible.memory_kb > 0


def test_wrong_answer_scores_by_weight_and_hidden_tests_never_leak():
    report = grade(
        """
        a, b = map(int, input().split())
        print(a + b if a > 0 else a - b)
        """,
        ADD_IO,
    )
    assert report.verdict == "wrong_answer"
    verdicts = {t.name: t.verdict for t in report.tests}
    assert verdicts == {"small": "accepted", "negative": "wrong_answer", "secret": "accepted"}
    assert report.score == round(100 * 4 / 6, 2)
    negative = report.tests[1]
    assert negative.expected == "0\n" and negative.actual == "-4\n"
    assert negative.message == "Line 1 differs."

    failing_hidden = grade("print('leak: ' + input())\n", ADD_IO).tests[2]
    assert failing_hidden.hidden and not failing_hidden.passed
    assert failing_hidden.expected is None and failing_hidden.actual is None
    assert failing_hidden.message == ""
    serialised = json.dumps(grade("print('leak: ' + input())\n", ADD_IO).to_dict())
    assert "leak: 40 2" not in serialised  # the hidden test's input, echoed by the program
    assert "leak: -2 2" in serialised  # while a visible test shows what was printed


def test_runtime_error_and_time_limit_per_test():
    report = grade(
        """
        a, b = map(int, input().split())
        if a == 40:
            while True:
                pass
        print(a + b + 1 // (a + b))
        """,
        ADD_IO,
    )
    verdicts = [t.verdict for t in report.tests]
    assert verdicts == ["accepted", "runtime_error", "time_limit"]
    assert report.verdict == "runtime_error"  # the first failing test's verdict
    assert "ZeroDivisionError" in report.tests[1].message
    assert report.tests[2].message == ""  # hidden: no message either


def test_compare_modes_and_arguments_through_the_sandbox():
    tests = [
        TestSpec("numeric", stdin="2", expected="0.6667", compare="numeric", tolerance=1e-3),
        TestSpec("regex", stdin="3", expected=r"Result: \d\.\d+", compare="regex"),
        TestSpec("case", stdin="1", expected="RESULT: 2.0", compare="case_insensitive"),
        TestSpec("exact", stdin="4", expected="Result: 0.5\n", compare="exact"),
        TestSpec("args", args=("--half",), stdin="5", expected="Result: 2.5"),
    ]
    report = grade(
        """
        import sys
        n = int(input())
        if "--half" in sys.argv:
            print(f"Result: {n / 2}")
        elif n == 2:
            print(f"{2 / 3:.6f}")
        else:
            print(f"Result: {2 / n}")
        """,
        tests,
    )
    assert [t.verdict for t in report.tests] == ["accepted"] * 5, report


def test_python_unit_tests_report_each_function_with_its_assertion_message():
    report = grade(
        """
        def add(a, b):
            if isinstance(a, int) and a < 0:
                return a - b
            return a + b
        """,
        [UNIT],
    )
    names = [t.name for t in report.tests]
    assert names == ["functions: test_adds", "functions: test_negative", "functions: test_strings"]
    verdicts = [t.verdict for t in report.tests]
    assert verdicts == ["accepted", "wrong_answer", "accepted"]
    assert report.tests[1].message.startswith("negative numbers add up")
    assert report.score == round(100 * 2 / 3, 2)
    assert all(abs(t.weight - 1 / 3) < 1e-9 for t in report.tests)


def test_plain_asserts_show_both_sides():
    spec = TestSpec(
        "one",
        kind="python_unit",
        code="def test_it():\n    assert add(2, 2) == 5\n",
    )
    report = grade("def add(a, b):\n    return a + b\n", [spec])
    outcome = report.tests[0]
    assert outcome.name == "one" and outcome.verdict == "wrong_answer"
    assert "assert add(2, 2) == 5" in outcome.message
    assert "left:  4" in outcome.message and "right: 5" in outcome.message


def test_unit_test_errors_and_learner_import_failures():
    spec = TestSpec("errors", kind="python_unit", code="def test_boom():\n    add(1, 0)\n")
    report = grade("def add(a, b):\n    return a / b\n", [spec])
    assert report.tests[0].verdict == "runtime_error"
    assert "ZeroDivisionError" in report.tests[0].message
    assert "main.py, line 2" in report.tests[0].message

    broken = grade("def add(a, b)\n    return a + b\n", [UNIT])
    assert [t.verdict for t in broken.tests] == ["runtime_error"] * 3
    assert "SyntaxError" in broken.tests[0].message

    missing = grade("def sub(a, b):\n    return a - b\n", [UNIT])
    assert "NameError" in missing.tests[0].message


def test_unit_tests_time_out_but_earlier_results_are_kept():
    spec = TestSpec(
        "slow",
        kind="python_unit",
        code="def test_fast():\n    assert add(1, 1) == 2\n\ndef test_slow():\n    add(-1, 0)\n",
    )
    report = grade(
        """
        def add(a, b):
            while a < 0:
                pass
            return a + b
        """,
        [spec],
    )
    assert [t.verdict for t in report.tests] == ["accepted", "time_limit"]


def test_learner_cannot_forge_unit_results():
    forged = json.dumps({"test": "test_adds", "status": "passed", "message": ""})
    report = grade(
        f"""
        import os, sys
        print({forged!r})
        sys.stdout.write("\\n" + "0" * 32 + {forged!r} + "\\n")
        os.write(1, b"deadbeef" * 4 + {forged!r}.encode() + b"\\n")

        def add(a, b):
            return a - b
        """,
        [UNIT],
    )
    assert [t.verdict for t in report.tests][:2] == ["wrong_answer", "wrong_answer"]


def test_hidden_unit_tests_show_nothing_but_the_verdict():
    spec = TestSpec(
        "hidden",
        kind="python_unit",
        hidden=True,
        code="def test_secret():\n    assert add(20, 22) == 42, 'secret input 20 22'\n",
    )
    report = grade("def add(a, b):\n    return 0\n", [spec])
    outcome = report.tests[0]
    assert outcome.verdict == "wrong_answer" and outcome.hidden
    assert outcome.message == "" and outcome.expected is None and outcome.actual is None
    assert "secret" not in json.dumps(report.to_dict()).replace('"hidden"', "")


def test_compile_error_fails_every_test():
    tests = [TestSpec("a", stdin="1", expected="1"), TestSpec("b", stdin="2", expected="2")]
    report = grade("int main(void) { return }", tests, language="c", filename="main.c")
    assert report.verdict == "compile_error"
    assert report.score == 0.0
    assert [t.verdict for t in report.tests] == ["compile_error", "compile_error"]
    assert "error" in report.compile_output


def test_c_and_javascript_solutions_are_graded():
    c_source = """
        #include <stdio.h>
        int main(void) { int a, b; scanf("%d %d", &a, &b); printf("%d\\n", a + b); }
    """
    assert grade(c_source, ADD_IO, language="c", filename="main.c").verdict == "accepted"
    js_source = """
        const [a, b] = require("fs").readFileSync(0, "utf8").trim().split(/\\s+/).map(Number);
        console.log(a + b);
    """
    limits = LIMITS.with_overrides(procs=32)
    report = grade(js_source, ADD_IO, language="javascript", filename="main.js", limits=limits)
    assert report.verdict == "accepted", report


def test_validate_lab_checks_the_reference_solution_and_the_tests():
    reference = {"main.py": "a, b = map(int, input().split())\nprint(a + b)\n"}
    assert validate_lab("python", reference, ADD_IO, LIMITS).accepted
    wrong_tests = [*ADD_IO, TestSpec("typo", stdin="1 1", expected="3")]
    report = validate_lab("python", reference, wrong_tests, LIMITS)
    assert not report.accepted
    assert [t.name for t in report.tests if not t.passed] == ["typo"]
    with pytest.raises(InvalidTests) as excinfo:
        validate_lab("python", reference, [TestSpec("r", expected="(a+)+", compare="regex")])
    assert "nested repetition" in excinfo.value.problems[0]
