"""Authoring services: lab settings, tests and archive content, validated on save.

Like CodeRunner's validate-on-save, a change that the reference solution no longer passes is
refused: the author sees which tests fail. Services flush; the view commits.
"""

from __future__ import annotations

import shlex
from typing import Any

from lms.errors import DomainError
from lms.extensions import db
from virtual_labs import authoring_checks, services
from virtual_labs.grading import GradeVerdict, InvalidTests, validate_tests
from virtual_labs.languages import LANGUAGES
from virtual_labs.models import Lab, LabTest


class ValidationFailed(DomainError):
    """The reference solution fails some tests; ``report`` holds the grading report."""

    def __init__(self, report: dict[str, Any]) -> None:
        failing = authoring_checks.failing_tests(report)
        names = ", ".join(f"“{t['name']}”" for t in failing[:5]) or "the compile step"
        more = f" and {len(failing) - 5} more" if len(failing) > 5 else ""
        super().__init__(
            f"Not saved: the reference solution fails {names}{more}. "
            "Fix the tests or the reference solution, then save again."
        )
        self.report = report


def _sandbox_ok() -> tuple[bool, str]:
    # imported here: the lab views import this module (through views_authoring), so a top-level
    # import would be circular; the services layer reads the views' cached sandbox check lazily.
    from virtual_labs.views import sandbox_state

    return sandbox_state()


def _files(value: Any, what: str) -> dict[str, str]:
    """Files from a form (list of {name, content}) or the archive (a mapping)."""
    if isinstance(value, list):
        value = {
            (row.get("name") or "").strip(): row.get("content") or ""
            for row in value
            if (row.get("name") or "").strip()
        }
    try:
        return services.clean_files(value or {}, what)
    except ValueError as exc:
        raise DomainError(str(exc)) from exc


def _language(value: Any) -> str:
    if value not in LANGUAGES:
        raise DomainError(
            f"Unknown lab language {value!r}: use one of {', '.join(LANGUAGES)}.", "language"
        )
    return value


def check_against_reference(
    lab: Lab,
    *,
    language: str | None = None,
    reference_files: dict[str, str] | None = None,
    tests: list[dict[str, Any]] | None = None,
    limits: dict[str, float] | None = None,
) -> dict[str, Any] | None:
    """Validate proposed values; raise ``ValidationFailed``. None when there is nothing to test."""
    tests = tests if tests is not None else [t.to_content() for t in lab.tests]
    if not tests:
        return None
    ok, _message = _sandbox_ok()
    if not ok:
        raise DomainError(
            "Not saved: the lab sandbox is unavailable, so the reference solution cannot be "
            "checked against the tests. Ask the site administrator to run `flask labs selftest`."
        )

    try:
        report = authoring_checks.validate_reference(
            lab, reference_files=reference_files, tests=tests, language=language, limits=limits
        )
    except InvalidTests as exc:
        raise DomainError("Not saved: " + " ".join(exc.problems)) from exc
    if report.get("verdict") != GradeVerdict.ACCEPTED:
        raise ValidationFailed(report)
    return report


def _with_main_file(files: dict[str, str] | None, language: str, content: str) -> dict[str, str]:
    """Put ``content`` in the main file: single-file labs follow the language's file name."""
    files = dict(files or {})
    if len(files) <= 1:
        return {services.default_file_name(language): content}
    first = next(iter(files))
    files[first] = content
    return files


def main_file_data(lab: Lab, data: dict[str, Any]) -> dict[str, Any]:
    """Turn the generic activity form's main-file fields into the settings' file mappings."""
    language = data.get("language") or lab.language or "python"
    out = {k: v for k, v in data.items() if k not in ("starter_code", "reference_code")}
    out["starter_files"] = _with_main_file(
        lab.starter_files, language, (data.get("starter_code") or "").replace("\r\n", "\n")
    )
    out["reference_files"] = _with_main_file(
        lab.reference_files, language, (data.get("reference_code") or "").replace("\r\n", "\n")
    )
    return out


def save_lab_settings(lab: Lab, data: dict[str, Any], validate: bool = True) -> None:
    """Store the lab form's data; with tests, only if the reference solution passes them."""
    language = _language(data.get("language") or lab.language or "python")
    try:
        limits = authoring_checks.clean_limits(
            {k: data.get(k) for k in ("cpu_s", "wall_s", "memory_mb", "procs", "output_kb")}
        )
    except ValueError as exc:
        raise DomainError(str(exc)) from exc
    starter = _files(data.get("starter_files"), "starter files")
    reference = _files(data.get("reference_files"), "reference files")
    if not reference:
        raise DomainError("Add the reference solution: it is how the tests are checked.")
    report = None
    if validate and lab.id is not None:
        report = check_against_reference(
            lab, language=language, reference_files=reference, limits=limits
        )
    lab.instructions = data.get("instructions") or ""
    lab.language = language
    lab.starter_files = starter
    lab.reference_files = reference
    for key, value in limits.items():
        setattr(lab, key, value)
    if report is not None:
        authoring_checks.record_validation(lab, report)
    db.session.flush()


def test_from_form(form) -> dict[str, Any]:
    """A cleaned test dict from a ``LabTestForm``; ``DomainError`` on bad data."""
    try:
        args = shlex.split(form.args.data or "")
    except ValueError as exc:
        raise DomainError(f"The arguments could not be read: {exc}.", "args") from exc
    try:
        return authoring_checks.clean_test(
            {
                "name": form.name.data,
                "kind": form.kind.data,
                "stdin": form.stdin.data or "",
                "args": args,
                "expected": form.expected.data or "",
                "compare": form.compare.data,
                "tolerance": form.tolerance.data if form.tolerance.data is not None else 1e-6,
                "code": form.code.data or "",
                "hidden": bool(form.hidden.data),
                "weight": form.weight.data,
            }
        )
    except ValueError as exc:
        raise DomainError(str(exc)) from exc


def save_test(lab: Lab, test: LabTest | None, data: dict[str, Any]) -> LabTest:
    """Add (``test`` None) or change a test, refused if the reference solution fails it."""
    proposed = [t.to_content() if t is not test else data for t in lab.tests]
    if test is None:
        proposed.append(data)
    report = check_against_reference(lab, tests=proposed)
    if test is None:
        test = LabTest(position=len(lab.tests), **data)
        lab.tests.append(test)
    else:
        for key, value in data.items():
            setattr(test, key, value)
    if report is not None:
        authoring_checks.record_validation(lab, report)
    authoring_checks.mark_edited(lab)
    db.session.flush()
    return test


def delete_test(lab: Lab, test: LabTest) -> None:
    """Delete a test from the lab and renumber the rest."""
    lab.tests.remove(test)
    db.session.delete(test)
    authoring_checks.renumber_tests(lab)
    authoring_checks.mark_edited(lab)


def move_test(lab: Lab, test: LabTest, direction: str) -> bool:
    """Move a test one place up or down; False when it cannot move."""
    ordered = sorted(lab.tests, key=lambda t: (t.position, t.id or 0))
    index = ordered.index(test)
    target = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= target < len(ordered):
        return False
    ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, item in enumerate(ordered):
        item.position = position
    authoring_checks.mark_edited(lab)
    db.session.flush()
    return True


def _content_limits(limits_in: Any) -> dict[str, float]:
    """An archive's limits over the site's defaults, checked (``DomainError``)."""
    if not isinstance(limits_in, dict):
        raise DomainError("The lab limits must be an object.")
    try:
        return authoring_checks.clean_limits({**authoring_checks.default_limits(), **limits_in})
    except ValueError as exc:
        raise DomainError(str(exc)) from exc


def _content_pass_mark(pass_mark: Any) -> float | None:
    """An archive's pass mark (0..100) or None (``DomainError``)."""
    if pass_mark is None:
        return None
    try:
        pass_mark = float(pass_mark)
    except (TypeError, ValueError) as exc:
        raise DomainError("The lab pass mark must be a number.") from exc
    if not 0 <= pass_mark <= 100:
        raise DomainError("The lab pass mark must be between 0 and 100.")
    return pass_mark


def apply_lab_content(lab: Lab, content: dict[str, Any]) -> None:
    """Fill ``lab`` from archive ``content`` (see ``LabType.export_content``); ``DomainError``.

    Archives come from an exported (validated) lab, so the sandbox is not needed to import;
    the lab is marked not yet validated until an author runs the reference solution.
    """
    if not isinstance(content, dict):
        raise DomainError("The lab content must be an object.")
    missing = [k for k in ("language", "reference_files", "tests") if k not in content]
    if missing:
        raise DomainError(f"The lab content lacks {', '.join(missing)}.")
    language = _language(content.get("language"))
    limits = _content_limits(content.get("limits") or {})
    pass_mark = _content_pass_mark(content.get("pass_mark"))
    tests_in = content.get("tests")
    if not isinstance(tests_in, list):
        raise DomainError("The lab tests must be a list.")
    try:
        tests = [authoring_checks.clean_test(t) for t in tests_in]
    except ValueError as exc:
        raise DomainError(str(exc)) from exc
    problems = validate_tests([services.test_spec(t) for t in tests], language) if tests else []
    if problems:
        raise DomainError("The lab tests are invalid: " + " ".join(problems))
    instructions = content.get("instructions") or ""
    if not isinstance(instructions, str):
        raise DomainError("The lab instructions must be text.")
    lab.instructions = instructions
    lab.language = language
    lab.starter_files = _files(content.get("starter_files") or {}, "starter files")
    lab.reference_files = _files(content.get("reference_files"), "reference files")
    for key, value in limits.items():
        setattr(lab, key, value)
    if pass_mark is not None:
        lab.pass_mark = pass_mark
    lab.validation_status = None
    lab.validation_report = None
    db.session.flush()
    authoring_checks.replace_tests(lab, tests)
