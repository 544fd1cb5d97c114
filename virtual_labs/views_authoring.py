"""Lab authoring pages: settings and files, the tests editor, running the reference solution."""

from __future__ import annotations

import shlex

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from lms.errors import DomainError
from lms.export import csv_response
from lms.extensions import db
from lms.lookup import owned_or_404
from lms.models import User
from lms.pagination import paginate
from lms.permissions import require
from virtual_labs import authoring, authoring_checks
from virtual_labs.forms import LabForm, LabTestForm
from virtual_labs.grading import InvalidTests
from virtual_labs.models import COMPARE_MODES, Lab, LabSubmission, LabTest
from virtual_labs.output_diff import diff_output
from virtual_labs.views import bp, lab_page_url, sandbox_state


def _editable_lab(lab_id: int) -> Lab:
    lab = db.get_or_404(Lab, lab_id)
    require("course.view", lab.course, hide=True)
    require("course.edit", lab.course)
    return lab


def _lab_test(lab: Lab, test_id: int) -> LabTest:
    return owned_or_404(LabTest, test_id, lab_id=lab.id)


def _report_view(report: dict | None) -> dict | None:
    """The validation report as the results fragment shows it (every test visible to authors)."""
    if not report:
        return None
    tests = []
    for t in report.get("tests", []):
        tests.append(
            {
                "name": t.get("name"),
                "verdict": t.get("verdict"),
                "passed": bool(t.get("passed")),
                "hidden": False,
                "was_hidden": bool(t.get("hidden")),
                "weight": t.get("weight"),
                "expected": t.get("expected"),
                "actual": t.get("actual"),
                "message": t.get("message") or "",
                "diff": None
                if t.get("passed")
                else diff_output(t.get("expected"), t.get("actual")),
            }
        )
    return {
        "title": "Reference solution",
        "actual_label": "Reference output",
        "kind": "validate",
        "tag": report.get("verdict"),
        "pending": False,
        "error": "",
        "score": report.get("score"),
        "tests": tests,
        "compile_output": report.get("compile_output") or "",
        "passed": sum(1 for t in tests if t["passed"]),
    }


@bp.route("/<int:lab_id>/edit", methods=["GET", "POST"])
@login_required
def edit(lab_id: int):
    """Lab settings, starter files and the reference solution, validated on save."""
    # imported here: the plugin imports the lab views (for render), which import this module.
    from virtual_labs.plugin import LabType

    lab = _editable_lab(lab_id)
    form = LabForm(data=LabType().settings_data(lab)) if request.method == "GET" else LabForm()
    failed = None
    if request.method == "POST" and form.add_file.data:
        target = request.args.get("add_to", "starter_files")
        getattr(
            form, "reference_files" if target == "reference_files" else "starter_files"
        ).append_entry()
        return _edit_page(lab, form, None, 200)
    if form.validate_on_submit():
        saved, failed = _save_settings(lab, form)
        if saved:
            flash("Lab saved. The reference solution passes every test.", "success")
            return redirect(url_for("labs.edit", lab_id=lab.id))
    return _edit_page(lab, form, failed, 400 if form.errors or form.form_errors else 200)


def _save_settings(lab, form) -> tuple[bool, dict | None]:
    """Save and validate the lab's settings: (saved, the failing reference run's report or None)."""
    try:
        authoring.save_lab_settings(lab, form.data, validate=True)
        authoring_checks.mark_edited(lab)
        db.session.commit()
        return True, None
    except authoring.ValidationFailed as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return False, _report_view(exc.report)
    except DomainError as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return False, None


def _edit_page(lab, form, failed, status: int):
    """The lab settings page with its form (and the failing run's report, if any)."""
    return render_template(
        "labs/edit.html", lab=lab, form=form, failed=failed, lab_url=lab_page_url(lab)
    ), status


@bp.route("/<int:lab_id>/tests")
@login_required
def tests(lab_id: int):
    """Author's list of a lab's tests with the sandbox state."""
    lab = _editable_lab(lab_id)
    ok, message = sandbox_state()
    return render_template(
        "labs/tests.html",
        lab=lab,
        report=_report_view(lab.validation_report),
        compare_modes=COMPARE_MODES,
        sandbox_ok=ok,
        sandbox_message=message,
        lab_url=lab_page_url(lab),
    )


def _form_for(test: LabTest | None) -> LabTestForm:
    if request.method == "POST":
        return LabTestForm()
    if test is None:
        return LabTestForm(data={"weight": 1.0, "tolerance": 1e-6, "compare": "trailing_ws"})
    data = test.to_content()
    data["args"] = shlex.join(data["args"])
    return LabTestForm(data=data)


def _fill_expected(lab: Lab, form: LabTestForm) -> None:
    """Put the reference solution's output for this input in “Expected output”."""
    ok, _message = sandbox_state()
    if not ok:
        form.expected.errors.append("The lab sandbox is unavailable: the reference cannot run.")
        return
    try:
        args = shlex.split(form.args.data or "")
    except ValueError as exc:
        form.args.errors.append(f"The arguments could not be read: {exc}.")
        return
    stdout, problem = authoring_checks.reference_output(
        lab, (form.stdin.data or "").replace("\r\n", "\n"), args
    )
    if problem:
        form.expected.errors.append(problem)
        return
    form.expected.data = stdout
    flash("Expected output filled in from the reference solution: check it, then save.", "info")


def _test_form_page(lab: Lab, test: LabTest | None):
    form = _form_for(test)
    failed = None
    if request.method == "POST" and request.form.get("fill_expected"):
        _fill_expected(lab, form)
        status = 400 if form.expected.errors or form.args.errors else 200
        return render_template(
            "labs/test_form.html",
            lab=lab,
            test=test,
            form=form,
            failed=None,
            lab_url=lab_page_url(lab),
        ), status
    if form.validate_on_submit():
        try:
            data = authoring.test_from_form(form)
            saved = authoring.save_test(lab, test, data)
            db.session.commit()
            flash(f"Test “{saved.name}” saved. The reference solution passes it.", "success")
            return redirect(url_for("labs.tests", lab_id=lab.id))
        except authoring.ValidationFailed as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
            failed = _report_view(exc.report)
        except DomainError as exc:
            db.session.rollback()
            if exc.field and exc.field in form:
                form[exc.field].errors.append(exc.message)
            else:
                form.form_errors.append(exc.message)
    status = 400 if form.errors or form.form_errors else 200
    return render_template(
        "labs/test_form.html",
        lab=lab,
        test=test,
        form=form,
        failed=failed,
        lab_url=lab_page_url(lab),
    ), status


@bp.route("/<int:lab_id>/tests/new", methods=["GET", "POST"])
@login_required
def new_test(lab_id: int):
    """Author's page to add a test to a lab."""
    return _test_form_page(_editable_lab(lab_id), None)


@bp.route("/<int:lab_id>/tests/<int:test_id>/edit", methods=["GET", "POST"])
@login_required
def edit_test(lab_id: int, test_id: int):
    """Author's page to edit a lab test."""
    lab = _editable_lab(lab_id)
    return _test_form_page(lab, _lab_test(lab, test_id))


@bp.route("/<int:lab_id>/tests/<int:test_id>/delete", methods=["POST"])
@login_required
def delete_test(lab_id: int, test_id: int):
    """POST endpoint for authors to delete a lab test."""
    lab = _editable_lab(lab_id)
    test = _lab_test(lab, test_id)
    name = test.name
    authoring.delete_test(lab, test)
    db.session.commit()
    flash(f"Test “{name}” deleted.", "success")
    return redirect(url_for("labs.tests", lab_id=lab.id))


@bp.route("/<int:lab_id>/tests/<int:test_id>/move", methods=["POST"])
@login_required
def move_test(lab_id: int, test_id: int):
    """POST endpoint for authors to move a lab test up or down."""
    lab = _editable_lab(lab_id)
    test = _lab_test(lab, test_id)
    if authoring.move_test(lab, test, request.form.get("direction", "")):
        db.session.commit()
    return redirect(url_for("labs.tests", lab_id=lab.id) + f"#test-{test.id}")


@bp.route("/<int:lab_id>/validate", methods=["POST"])
@login_required
def validate(lab_id: int):
    """Run the reference solution against every test and keep the report on the lab."""
    lab = _editable_lab(lab_id)
    ok, _message = sandbox_state()
    if not ok:
        flash("The lab sandbox is unavailable, so the reference solution cannot run.", "error")
        return redirect(url_for("labs.tests", lab_id=lab.id))
    if not lab.tests:
        flash("Add a test first: the reference solution is run against the tests.", "warning")
        return redirect(url_for("labs.tests", lab_id=lab.id))

    try:
        report = authoring_checks.validate_reference(lab)
    except InvalidTests as exc:
        flash("The tests need fixing first: " + " ".join(exc.problems), "error")
        return redirect(url_for("labs.tests", lab_id=lab.id))
    authoring_checks.record_validation(lab, report)
    db.session.commit()
    if lab.validation_status == "valid":
        flash("The reference solution passes every test.", "success")
    else:
        flash("The reference solution fails some tests: see the results below.", "error")
    return redirect(url_for("labs.tests", lab_id=lab.id) + "#validation")


def _review_query(lab: Lab, kind: str, query: str):
    """Submissions of ``lab`` for the review page and its CSV export, newest first."""
    stmt = (
        select(LabSubmission)
        .join(User, User.id == LabSubmission.user_id)
        .options(contains_eager(LabSubmission.user))
        .where(LabSubmission.lab_id == lab.id)
        .order_by(LabSubmission.id.desc())
    )
    if kind in ("submit", "run"):
        stmt = stmt.where(LabSubmission.kind == kind)
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where((User.name.ilike(like)) | (User.email.ilike(like)))
    return stmt


def _reviewable_lab(lab_id: int) -> Lab:
    lab = db.get_or_404(Lab, lab_id)
    require("course.view", lab.course, hide=True)
    require("course.view_reports", lab.course)
    return lab


@bp.route("/<int:lab_id>/review")
@login_required
def review(lab_id: int):
    """Every learner's runs and submissions for this lab, newest first, for the course's staff."""
    lab = _reviewable_lab(lab_id)
    kind = request.args.get("kind", "submit")
    query = (request.args.get("q") or "").strip()
    page = paginate(_review_query(lab, kind, query), per_page=50)
    return render_template(
        "labs/review.html", lab=lab, page=page, kind=kind, query=query, lab_url=lab_page_url(lab)
    )


@bp.route("/<int:lab_id>/review.csv")
@login_required
def review_csv(lab_id: int):
    """The same list as CSV (every page), streamed.

    Written by the shared CSV export, which defuses spreadsheet formulas: a learner named
    ``=HYPERLINK(...)`` must not become a live formula in the trainer's spreadsheet.
    """
    lab = _reviewable_lab(lab_id)
    kind = request.args.get("kind", "submit")
    stmt = _review_query(lab, kind, (request.args.get("q") or "").strip())
    header = ["id", "learner", "email", "kind", "sent_utc", "status", "verdict", "score"]

    def rows():
        """One CSV row per submission, streamed."""
        # A generator function, so the query runs while the response streams.
        for sub in db.session.scalars(stmt.execution_options(yield_per=500)):
            yield [
                sub.id,
                sub.user.name,
                sub.user.email,
                sub.kind,
                sub.created_at.isoformat(timespec="seconds"),
                sub.status,
                sub.verdict or "",
                "" if sub.score is None else f"{sub.score:g}",
            ]

    return csv_response(f"lab-{lab.id}-submissions.csv", header, rows())
