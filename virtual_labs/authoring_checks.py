"""Lab authoring checks: the reference solution run against the tests, and tests and limits
cleaned before they are stored. Services: they flush and never commit.
"""

from __future__ import annotations

import re
from typing import Any

from lms.extensions import db
from lms.timeutil import utcnow
from virtual_labs.grading import GradeVerdict, validate_lab
from virtual_labs.models import COMPARE_MODES, LIMIT_BOUNDS, TEST_KINDS, Lab, LabTest
from virtual_labs.sandbox import Limits, RunVerdict, run_program
from virtual_labs.services import lab_limits, setting, test_spec


def validate_reference(
    lab: Lab,
    reference_files: dict[str, str] | None = None,
    tests: list[dict[str, Any]] | None = None,
    language: str | None = None,
    limits: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Run the reference solution against every test (with proposed changes); the report."""
    limits = limits or lab.limits_dict
    contents = tests if tests is not None else [t.to_content() for t in lab.tests]
    hidden = {t["name"] for t in contents if t.get("hidden")}
    # Authors see every detail of their own tests: run them all as visible, then mark which
    # ones learners see as hidden (a unit test spec yields rows named "<spec>: <function>").
    report = validate_lab(
        language or lab.language,
        reference_files if reference_files is not None else dict(lab.reference_files),
        [test_spec({**t, "hidden": False}) for t in contents],
        Limits(
            cpu_s=float(limits["cpu_s"]),
            wall_s=float(limits["wall_s"]),
            memory_mb=int(limits["memory_mb"]),
            procs=int(limits["procs"]),
            output_kb=int(limits["output_kb"]),
        ),
    )
    data = report.to_dict()
    for outcome in data["tests"]:
        name = outcome["name"]
        outcome["hidden"] = name in hidden or name.split(": ", 1)[0] in hidden
    return data


def reference_output(lab: Lab, stdin: str, args: list[str]) -> tuple[str, str]:
    """Run the reference solution once: (stdout, problem). ``problem`` is empty on success."""
    result = run_program(lab.language, dict(lab.reference_files), stdin, args, lab_limits(lab))
    if result.verdict != RunVerdict.OK:
        detail = (result.compile_output or result.stderr or "").strip()[-1500:]
        return result.stdout, f"The reference solution ended with “{result.verdict}”. {detail}"
    return result.stdout, ""


def record_validation(lab: Lab, report: dict[str, Any]) -> None:
    """Store the reference solution's validation report on the lab."""
    lab.validation_status = "valid" if report.get("verdict") == GradeVerdict.ACCEPTED else "invalid"
    lab.validation_report = report
    lab.validated_at = utcnow()
    db.session.flush()


def failing_tests(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Tests the reference solution failed in a validation report."""
    return [t for t in report.get("tests", []) if not t.get("passed")]


def mark_edited(lab: Lab) -> None:
    """Bump the course's content version (sign-offs must be given again)."""
    try:  # imported here: optional, an older core has no content versions
        from lms.domain.services import mark_course_edited
    except ImportError:  # pragma: no cover - older core without content versions
        return
    mark_course_edited(lab.course)


def clean_test(data: dict[str, Any]) -> dict[str, Any]:
    """Check a test's archive/form data; the normalised dict or ``ValueError``."""
    if not isinstance(data, dict):
        raise ValueError("Each test must be an object.")
    name = str(data.get("name") or "").strip()
    if not name:
        raise ValueError("Each test needs a name.")
    if len(name) > 120:
        raise ValueError(f"The test name “{name[:40]}…” is longer than 120 characters.")
    kind = data.get("kind", "io")
    if kind not in TEST_KINDS:
        raise ValueError(f"Test “{name}”: unknown kind {kind!r} (use io or python_unit).")
    compare = data.get("compare", "trailing_ws")
    if compare not in COMPARE_MODES:
        raise ValueError(f"Test “{name}”: unknown comparison {compare!r}.")
    args = data.get("args") or []
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ValueError(f"Test “{name}”: args must be a list of strings.")
    try:
        weight = float(data.get("weight", 1.0))
        tolerance = float(data.get("tolerance", 1e-6))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Test “{name}”: weight and tolerance must be numbers.") from exc
    if not 0 <= weight <= 1000:
        raise ValueError(f"Test “{name}”: the weight must be between 0 and 1000.")
    if tolerance < 0:
        raise ValueError(f"Test “{name}”: the tolerance cannot be negative.")
    if compare == "regex":
        try:
            re.compile(str(data.get("expected", "")))
        except re.error as exc:
            raise ValueError(
                f"Test “{name}”: the expected regular expression is invalid ({exc})."
            ) from exc
    if kind == "python_unit" and not str(data.get("code", "")).strip():
        raise ValueError(f"Test “{name}”: a Python unit test needs test code.")
    return {
        "name": name,
        "kind": kind,
        "stdin": str(data.get("stdin", "")).replace("\r\n", "\n"),
        "args": args,
        "expected": str(data.get("expected", "")).replace("\r\n", "\n"),
        "compare": compare,
        "tolerance": tolerance,
        "code": str(data.get("code", "")).replace("\r\n", "\n"),
        "hidden": bool(data.get("hidden", False)),
        "weight": weight,
    }


def default_limits() -> dict[str, float]:
    """The limits a new lab starts with: the site's ``LAB_DEFAULT_*`` settings, within bounds."""
    out: dict[str, float] = {}
    for key, (low, high) in LIMIT_BOUNDS.items():
        value = min(max(float(setting(f"LAB_DEFAULT_{key.upper()}")), low), high)
        out[key] = value if key in ("cpu_s", "wall_s") else int(value)
    return out


def clean_limits(data: dict[str, Any]) -> dict[str, float]:
    """Sandbox limits as floats within their bounds, or a domain error."""
    out: dict[str, float] = {}
    for key, (low, high) in LIMIT_BOUNDS.items():
        try:
            value = float(data[key])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"The limit {key} is missing or not a number.") from exc
        if not low <= value <= high:
            raise ValueError(f"The limit {key} must be between {low:g} and {high:g}.")
        out[key] = value if key in ("cpu_s", "wall_s") else int(value)
    return out


def replace_tests(lab: Lab, tests: list[dict[str, Any]]) -> None:
    """Replace every test of ``lab`` with ``tests`` (cleaned dicts), in order."""
    lab.tests.clear()
    db.session.flush()
    for position, data in enumerate(tests):
        lab.tests.append(LabTest(position=position, **data))
    db.session.flush()


def renumber_tests(lab: Lab) -> None:
    """Give the lab's tests consecutive positions in their order."""
    for position, test in enumerate(sorted(lab.tests, key=lambda t: (t.position, t.id or 0))):
        test.position = position
    db.session.flush()
