"""The OpenAPI document matches the implementation: every route documented, responses valid."""

from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator

from tests.test_api import api, hr_world  # noqa: F401  (the fixture, used through ``hr``)


@pytest.fixture
def hr(request):
    return request.getfixturevalue("hr_world")


def _doc(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_document_is_openapi_31(client):
    doc = _doc(client)
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_document_is_a_valid_openapi_31_description(client):
    from openapi_spec_validator import validate

    validate(_doc(client))


def test_every_route_is_documented_and_every_documented_path_exists(app, client):
    doc = _doc(client)
    implemented = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule[len("/api/v1") :])
        methods = {m.lower() for m in rule.methods} - {"head", "options"}
        implemented[path] = methods
    assert implemented, "no API routes found"
    documented = {path: set(ops) for path, ops in doc["paths"].items()}
    assert implemented == documented
    for path, ops in doc["paths"].items():
        params = set(re.findall(r"{([a-z_]+)}", path))
        for op in ops.values():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == params, path
            assert "200" in op["responses"]


def _validator(doc, name):
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _response_schema(doc, path, status="200"):
    response = doc["paths"][path]["get"]["responses"][status]
    if "$ref" in response:  # a shared response of components/responses
        response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    content = response["content"]
    media = "application/json" if status == "200" else "application/problem+json"
    return content[media]["schema"]["$ref"].rsplit("/", 1)[-1]


RESPONSES = [
    ("/organization", "/organization", {}),
    ("/programs", "/programs", {}),
    ("/programs/{program_id}", "/programs/{quality}", {}),
    ("/assignments", "/assignments", {"limit": 2}),
    ("/assignments", "/assignments", {"status": "overdue"}),
    ("/employees", "/employees", {}),
    ("/employees/{user_id}/transcript", "/employees/{employee}/transcript", {}),
    ("/completions", "/completions", {}),
    ("/skills/gaps", "/skills/gaps", {"limit": 5}),
]
ERRORS = [
    ("/assignments", "400", "/assignments", {"status": "nope"}, "acme_secret"),
    ("/assignments", "401", "/assignments", {}, None),
    ("/programs/{program_id}", "404", "/programs/{logistics}", {}, "acme_secret"),
    ("/employees/{user_id}/transcript", "404", "/employees/{globex_employee}/transcript", {},
     "acme_secret"),
]  # fmt: skip


def test_responses_validate_against_the_documented_schemas(client, hr):
    doc = _doc(client)
    for path, url, params in RESPONSES:
        response = api(client, hr["acme_secret"], url.format(**hr), **params)
        assert response.status_code == 200, url
        validator = _validator(doc, _response_schema(doc, path))
        errors = list(validator.iter_errors(response.get_json()))
        assert not errors, (url, errors[0])


def test_errors_validate_against_the_problem_schema(client, hr):
    doc = _doc(client)
    for path, status, url, params, secret in ERRORS:
        response = api(client, hr[secret] if secret else "wrong", url.format(**hr), **params)
        assert response.status_code == int(status), url
        assert response.mimetype == "application/problem+json"
        assert status in doc["paths"][path]["get"]["responses"], (path, status)
        validator = _validator(doc, _response_schema(doc, path, status))
        errors = list(validator.iter_errors(response.get_json()))
        assert not errors, (url, errors[0])
