"""The pure parts of lab grading: output comparison, test validation, scores and reports."""

from __future__ import annotations

import pytest

from virtual_labs.grading import (
    GradeReport,
    TestOutcome,
    TestSpec,
    compare_output,
    explain_mismatch,
    overall_verdict,
    regex_problem,
    score_of,
    unit_test_names,
    validate_tests,
)


@pytest.mark.parametrize(
    "expected,actual,result",
    [
        ("42\n", "42\n", True),
        ("42\n", "42", False),
        ("42\n", "42 \n", False),
        ("a\r\nb", "a\nb", False),
    ],
)
def test_exact(expected, actual, result):
    assert compare_output(expected, actual, "exact") is result


@pytest.mark.parametrize(
    "expected,actual,result",
    [
        ("42\n", "42", True),
        ("42", "42   \n\n\n", True),
        ("a\nb\n", "a  \r\nb\t\r\n", True),
        ("a b", "a  b", False),  # inner whitespace counts
        ("a\n\nb", "a\nb", False),  # blank lines inside count
        ("", "\n\n", True),
        ("Yes", "yes", False),
    ],
)
def test_trailing_whitespace(expected, actual, result):
    assert compare_output(expected, actual) is result
    assert compare_output(expected, actual, "trailing_ws") is result


@pytest.mark.parametrize(
    "expected,actual,result",
    [("Yes\nNO", "yes\nno  \n", True), ("Straße", "STRASSE", True), ("yes", "yes!", False)],
)
def test_case_insensitive(expected, actual, result):
    assert compare_output(expected, actual, "case_insensitive") is result


@pytest.mark.parametrize(
    "expected,actual,tolerance,result",
    [
        ("3.14159", "3.1415926", 1e-4, True),
        ("3.14159", "3.15", 1e-4, False),
        ("1 2 3", "1.0\n2.0000001\n3", 1e-6, True),
        ("1 2 3", "1 2", 1e-6, False),  # token count must match
        ("1e6", "1000000.5", 1e-6, True),  # relative tolerance
        ("0.0", "1e-9", 1e-6, True),  # absolute tolerance near zero
        ("OEE: 0.85", "OEE: 0.8500001", 1e-6, True),  # words compared exactly
        ("OEE: 0.85", "oee: 0.85", 1e-6, False),
        ("nan", "NaN", 0, True),
        ("inf", "1e400", 0, True),
        ("1", "x", 1e-6, False),
    ],
)
def test_numeric(expected, actual, tolerance, result):
    assert compare_output(expected, actual, "numeric", tolerance) is result


@pytest.mark.parametrize(
    "pattern,actual,result",
    [
        (r"Total: \d+", "Total: 42\n", True),
        (r"Total: \d+", "Total: 42 items", False),  # the whole output must match
        (r"^line \d$\n^line \d$", "line 1\nline 2\n", True),  # MULTILINE
        (r"start.*end", "start\nmiddle\nend", True),  # DOTALL
        (r"(a+)+b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac", False),  # refused, never run
        (r"[", "[", False),  # invalid pattern never matches
    ],
)
def test_regex(pattern, actual, result):
    assert compare_output(pattern, actual, "regex") is result


def test_unknown_mode_is_an_error():
    with pytest.raises(ValueError):
        compare_output("a", "a", "fuzzy")


@pytest.mark.parametrize(
    "pattern",
    [
        r"(a+)+$",
        r"(a*)*b",
        r"(x+x+)+y",
        r"((ab)*)+",
        r"(?:\w+\s?)*$",
        r"(a+a)+",
        r"(.*,)*x",
        "a" * 2001,
    ],
)
def test_regex_guard_refuses_catastrophic_patterns(pattern):
    assert regex_problem(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        r"\d+ items?",
        r"(ab)+",
        r"(a|b){1,3}c",
        r"OEE: 0\.\d{2}",
        r"[A-Z]\w*(, [A-Z]\w*)*",
        r"(\d+,)*\d+",
    ],
)
def test_regex_guard_accepts_ordinary_patterns(pattern):
    assert regex_problem(pattern) is None


def test_explain_mismatch_points_at_the_difference():
    assert explain_mismatch("1\n2\n3", "1\n5\n3", "trailing_ws") == "Line 2 differs."
    assert explain_mismatch("1\n2", "1\n2\n3", "trailing_ws") == "Expected 2 lines, got 3."
    assert explain_mismatch("1", "", "trailing_ws") == "The program printed nothing."
    assert "Value 2 differs" in explain_mismatch("1 2", "1 3", "numeric", 1e-6)
    assert "Expected 2 values" in explain_mismatch("1 2", "1", "numeric")
    assert "whitespace" in explain_mismatch("a\n", "a", "exact")
    assert "pattern" in explain_mismatch(r"\d+", "x", "regex")


def test_unit_test_names():
    code = "def helper():\n    pass\n\ndef test_one():\n    pass\n\ndef test_two():\n    pass\n"
    assert unit_test_names(code) == ["test_one", "test_two"]


def test_validate_tests_accepts_a_good_set():
    tests = [
        TestSpec("sample", stdin="1 2", expected="3"),
        TestSpec("pattern", expected=r"\d+", compare="regex", hidden=True),
        TestSpec("unit", kind="python_unit", code="def test_x():\n    assert True\n"),
    ]
    assert validate_tests(tests, "python") == []


def test_validate_tests_reports_each_problem():
    tests = [
        TestSpec("same"),
        TestSpec("same"),
        TestSpec(""),
        TestSpec("bad mode", compare="fuzzy"),
        TestSpec("bad regex", compare="regex", expected="(a+)+"),
        TestSpec("no tests", kind="python_unit", code="def helper():\n    pass\n"),
        TestSpec("syntax", kind="python_unit", code="def test_x(:\n"),
        TestSpec("negative", weight=-1),
        TestSpec("kind", kind="java"),
        TestSpec("tolerance", compare="numeric", tolerance=-1),
    ]
    problems = validate_tests(tests, "c")
    text = "\n".join(problems)
    assert "same name" in text
    assert "give it a name" in text
    assert "unknown comparison" in text
    assert "nested repetition" in text
    assert "define at least one test_" in text
    assert "syntax error (line 1)" in text
    assert "weight must be zero or more" in text
    assert "unknown kind" in text
    assert "tolerance must be zero or more" in text
    assert "need a Python lab" in text
    assert validate_tests([]) == ["Add at least one test."]
    assert "weight above zero" in "".join(validate_tests([TestSpec("a", weight=0)]))


def _outcome(name, verdict, weight=1.0, hidden=False):
    return TestOutcome(
        name=name, verdict=verdict, passed=verdict == "accepted", weight=weight, hidden=hidden
    )


def test_score_is_the_weighted_share_passed():
    outcomes = [
        _outcome("a", "accepted", 1),
        _outcome("b", "wrong_answer", 2),
        _outcome("c", "accepted", 1),
    ]
    assert score_of(outcomes) == 50.0
    assert score_of([_outcome("a", "accepted", 1), _outcome("b", "time_limit", 2)]) == 33.33
    assert score_of([]) == 100.0
    assert score_of([_outcome("a", "accepted", 0)]) == 100.0
    assert score_of([_outcome("a", "wrong_answer", 0)]) == 0.0


def test_overall_verdict_is_the_first_failure():
    assert overall_verdict([_outcome("a", "accepted")]) == "accepted"
    outcomes = [
        _outcome("a", "accepted"),
        _outcome("b", "time_limit"),
        _outcome("c", "wrong_answer"),
    ]
    assert overall_verdict(outcomes) == "time_limit"


def test_report_round_trips_through_a_dict():
    report = GradeReport(
        verdict="wrong_answer",
        score=50.0,
        tests=(
            TestOutcome("a", "accepted", True, expected="1", actual="1", cpu_s=0.01234567),
            TestOutcome("b", "wrong_answer", False, hidden=True),
        ),
        compile_output="warning: x",
    )
    data = report.to_dict()
    assert data["tests"][0]["cpu_s"] == 0.0123
    again = GradeReport.from_dict(data)
    assert again.verdict == "wrong_answer" and again.score == 50.0
    assert again.tests[1].hidden and again.tests[1].expected is None
    assert again.compile_output == "warning: x"
    assert not again.accepted


def test_test_spec_round_trips_through_a_dict():
    spec = TestSpec(
        "t", stdin="x", args=("1", "2"), expected="y", compare="numeric", hidden=True, weight=2
    )
    data = spec.to_dict()
    assert data["args"] == ["1", "2"]
    assert TestSpec.from_dict(data) == spec
