"""Lab content: the course-archive round trip, import validation and the demo labs."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from lms.extensions import db
from tests.factories import make_course, make_lab, make_module, make_org
from virtual_labs import authoring_checks, seed
from virtual_labs.models import Lab
from virtual_labs.plugin import LabType


def test_export_then_import_reproduces_the_lab(app):
    with app.app_context():
        module = make_module(make_course(make_org()))
        lab = make_lab(module, cpu_s=1.5, memory_mb=128)
        content = LabType().export_content(lab, {})
        assert set(content) == {
            "instructions", "language", "starter_files", "reference_files", "limits",
            "pass_mark", "tests",
        }  # fmt: skip
        copy_lab = Lab(course_id=module.course_id, module_id=module.id, title="Copy")
        db.session.add(copy_lab)
        db.session.flush()
        LabType().import_content(copy_lab, copy.deepcopy(content), {})
        again = LabType().export_content(copy_lab, {})
        assert again == content
        assert copy_lab.tests[1].hidden and copy_lab.limits_dict["cpu_s"] == 1.5


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.update(language="cobol"), "Unknown lab language"),
        (lambda c: c.pop("tests"), "lacks tests"),
        (lambda c: c["limits"].update(cpu_s=500), "cpu_s must be between"),
        (lambda c: c.update(pass_mark=150), "pass mark must be between 0 and 100"),
        (lambda c: c["tests"][0].update(compare="fuzzy"), "unknown comparison"),
        (lambda c: c["tests"][0].update(name=""), "needs a name"),
        (lambda c: c["tests"][1].update(name="Small numbers"), "same name"),
        (lambda c: c.update(reference_files={"../etc/passwd": "x"}), "not a valid file name"),
        (lambda c: c["tests"][0].update(kind="python_unit", code="x = 1"), "test_"),
    ],
)
def test_import_rejects_bad_content_with_a_clear_message(app, change, message):
    with app.app_context():
        module = make_module(make_course(make_org()))
        content = LabType().export_content(make_lab(module), {})
        change(content)
        target = Lab(course_id=module.course_id, module_id=module.id, title="Imported")
        db.session.add(target)
        db.session.flush()
        with pytest.raises(ValueError, match=message):
            LabType().import_content(target, content, {})


def test_seed_adds_the_demo_labs_once(app):
    with app.app_context():
        org = make_org()
        python = make_course(org, slug=seed.PYTHON_COURSE, title="Python for Production Data")
        make_module(python, "Reading plant data")
        stats = make_course(org, slug=seed.STATS_COURSES[0], title="Quality Management")
        created = seed.seed_labs()
        assert len(created) == 3
        assert seed.seed_labs() == []  # idempotent
        labs = db.session.scalars(select(Lab).order_by(Lab.id)).all()
        assert [lab.course_id for lab in labs] == [python.id, python.id, stats.id]
        assert {lab.language for lab in labs} == {"python", "c"}
        assert labs[0].module_id == labs[1].module_id  # one labs module per course
        assert [labs[0].position, labs[1].position] == [0, 1]
        for lab in labs:
            assert lab.module.title == seed.MODULE_TITLE
            assert any(t.hidden for t in lab.tests) and any(not t.hidden for t in lab.tests)
        assert any(t.kind == "python_unit" for t in labs[1].tests)


def test_seed_skips_missing_courses(app):
    with app.app_context():
        assert seed.seed_labs() == []


@pytest.mark.sandbox
def test_demo_reference_solutions_pass_and_starters_fail(app):
    """Every demo lab is valid (its reference passes every test) and not solved by its starter."""
    with app.app_context():
        org = make_org()
        make_course(org, slug=seed.PYTHON_COURSE)
        make_course(org, slug=seed.STATS_COURSES[0])
        for lab in seed.seed_labs():
            report = authoring_checks.validate_reference(lab)
            failing = [t["name"] for t in report["tests"] if not t["passed"]]
            assert report["verdict"] == "accepted", (lab.title, failing, report)
            starter = authoring_checks.validate_reference(
                lab, reference_files=dict(lab.starter_files)
            )
            assert starter["verdict"] != "accepted" and starter["score"] < lab.pass_mark


def test_labs_travel_with_the_course_archive(app):
    """Through the courses area's archive: export a course with a lab, import it as a copy."""
    from courses.archive import export_course, import_course

    with app.app_context():
        org = make_org()
        course = make_course(org, title="Statistics with C")
        lab = make_lab(make_module(course), language="python", pass_mark=75.0)
        original = LabType().export_content(lab, {})
        copy_course = import_course(export_course(course), org)
        db.session.flush()
        copied = db.session.scalar(select(Lab).where(Lab.course_id == copy_course.id))
        assert copied is not None and copied.id != lab.id
        assert LabType().export_content(copied, {}) == original
        assert copied.validation_status is None  # to be validated again on the new site


def test_deleting_a_lab_removes_its_tests_and_submissions(app):
    from courses.structure import delete_activity
    from tests.factories import make_user
    from virtual_labs.models import LabSubmission, LabTest

    with app.app_context():
        org = make_org()
        lab = make_lab(make_module(make_course(org)))
        user = make_user(org=org)
        db.session.add(LabSubmission(lab_id=lab.id, user_id=user.id, files={"main.py": "x"}))
        db.session.commit()
        delete_activity(lab)
        db.session.commit()
        assert db.session.scalar(select(Lab)) is None
        assert db.session.scalar(select(LabTest)) is None
        assert db.session.scalar(select(LabSubmission)) is None  # on SQLite too (no FK cascade)
