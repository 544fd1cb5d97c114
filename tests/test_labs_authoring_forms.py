"""Lab authoring forms as a new author meets them: the new lab form and the test form."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from lms.extensions import db
from tests.factories import make_course, make_lab, make_module, make_org, make_user
from virtual_labs.models import Lab

REFERENCE = "a, b = map(int, input().split())\nprint(a + b)\n"
LIMITS = ("cpu_s", "wall_s", "memory_mb", "procs", "output_kb")


@pytest.fixture
def world(app):
    with app.app_context():
        org = make_org()
        trainer = make_user(org=org, role="trainer")
        course = make_course(org)
        module = make_module(course)
        lab = make_lab(module, reference=REFERENCE)
        db.session.commit()
        return SimpleNamespace(
            trainer=trainer.email, slug=course.slug, module_id=module.id, lab_id=lab.id
        )


def field_value(page: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    if match is None:
        return None
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def new_lab_form(**changes: str) -> dict[str, str]:
    form = {
        "type": "lab",
        "title": "Lab: defaults",
        "completion_rule": "passed",
        "pass_mark": "100",
        "weight": "1",
        "type-instructions": "Print the sum.",
        "type-language": "python",
        "type-starter_code": "",
        "type-reference_code": REFERENCE,
    }
    form.update(changes)
    return form


def test_the_new_lab_form_starts_from_the_site_default_limits(app, client, auth, world):
    app.config.update(LAB_DEFAULT_CPU_S=1.5, LAB_DEFAULT_MEMORY_MB=128)
    auth.login(world.trainer)
    url = f"/courses/{world.slug}/modules/{world.module_id}/activities/new"
    page = client.get(f"{url}?type=lab").get_data(as_text=True)
    values = {key: field_value(page, f"type-{key}") for key in LIMITS}
    assert values == {
        "cpu_s": "1.5",
        "wall_s": "5.0",
        "memory_mb": "128",
        "procs": "16",
        "output_kb": "64",
    }
    # What the browser sends back as it stands is saved with those limits.
    resp = client.post(url, data=new_lab_form(**{f"type-{k}": v for k, v in values.items()}))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with app.app_context():
        lab = db.session.scalar(select(Lab).where(Lab.title == "Lab: defaults"))
        assert lab.limits_dict == {
            "cpu_s": 1.5,
            "wall_s": 5.0,
            "memory_mb": 128,
            "procs": 16,
            "output_kb": 64,
        }


def test_limit_errors_name_their_field(client, auth, world):
    auth.login(world.trainer)
    url = f"/courses/{world.slug}/modules/{world.module_id}/activities/new"
    limits = {
        "type-cpu_s": "",
        "type-wall_s": "soon",
        "type-memory_mb": "1.5",
        "type-procs": "1000",
        "type-output_kb": "64",
    }
    resp = client.post(url, data=new_lab_form(**limits))
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    summary = page[
        page.index('class="error-summary"') : page.index("</div>", page.index("error-summary"))
    ]
    assert "Enter the CPU time limit (seconds)." in summary
    assert "Wall-clock limit (seconds) must be a number." in summary
    assert "Memory limit (MB) must be a whole number." in summary
    assert "Process limit must be between 1 and 64." in summary
    assert "This field is required" not in page
    # Each message links to its field.
    assert 'href="#type-cpu_s"' in summary and 'href="#type-procs"' in summary


def lab_test_data(**changes: str) -> dict[str, str]:
    form = {
        "name": "Adds",
        "kind": "io",
        "stdin": "2 3\n",
        "args": "",
        "expected": "6\n",
        "compare": "trailing_ws",
        "tolerance": "0.000001",
        "code": "",
        "weight": "1",
    }
    form.update(changes)
    return form


@pytest.mark.sandbox
def test_a_failing_reference_solution_is_reported_once_and_labelled_as_the_reference(
    client, auth, world
):
    auth.login(world.trainer)
    resp = client.post(f"/labs/{world.lab_id}/tests/new", data=lab_test_data())
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert page.count("the reference solution fails") == 1, page
    diff = page[page.index('class="lab-diff"') :]
    assert '<th scope="row">Reference output</th>' in diff and "Your output" not in page
    assert "<mark>6</mark>" in diff and "<mark>5</mark>" in diff


def test_the_test_form_shows_only_the_section_of_its_kind(client, auth, world):
    auth.login(world.trainer)
    page = client.get(f"/labs/{world.lab_id}/tests/new").get_data(as_text=True)
    assert '<fieldset data-when-field="kind" data-when-value="io">' in page
    assert '<fieldset data-when-field="kind" data-when-value="python_unit" hidden>' in page
    assert '<div data-when-field="compare" data-when-value="numeric" hidden>' in page
    unit = client.post(
        f"/labs/{world.lab_id}/tests/new", data=lab_test_data(kind="python_unit", code="")
    ).get_data(as_text=True)
    assert '<fieldset data-when-field="kind" data-when-value="io" hidden>' in unit
    assert '<fieldset data-when-field="kind" data-when-value="python_unit">' in unit


@pytest.mark.browser
def test_switching_the_test_kind_switches_the_section(page, world):
    from playwright.sync_api import expect

    from tests.conftest import browser_login

    browser_login(page, world.trainer)
    page.goto(f"/labs/{world.lab_id}/tests/new")
    io, unit = (
        page.get_by_label("Standard input"),
        page.get_by_label("Test code (Python unit tests)"),
    )
    expect(io).to_be_visible()
    expect(unit).to_be_hidden()
    expect(page.get_by_label("Numeric tolerance")).to_be_hidden()
    page.get_by_label("Comparison").select_option("numeric")
    expect(page.get_by_label("Numeric tolerance")).to_be_visible()
    page.get_by_label("Kind").select_option("python_unit")
    expect(unit).to_be_visible()
    expect(io).to_be_hidden()


def test_the_new_lab_form_reports_every_error_at_once(client, auth, world):
    auth.login(world.trainer)
    url = f"/courses/{world.slug}/modules/{world.module_id}/activities/new"
    resp = client.post(url, data=new_lab_form(title="", **{"type-reference_code": ""}))
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert 'href="#title"' in page and 'href="#type-reference_code"' in page
