"""Error pages: templated HTML for people, application/problem+json for the API, never a
stack trace."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture
def boom_app(app):
    """The app with two routes that fail unexpectedly (added before the first request)."""

    def boom():
        raise RuntimeError("database password is hunter2")

    app.add_url_rule("/boom", "boom", boom)
    app.add_url_rule("/api/boom", "api_boom", boom)
    return app


def test_unexpected_error_renders_the_500_page_without_a_traceback(boom_app, caplog):
    client = boom_app.test_client()
    with caplog.at_level(logging.ERROR, logger="lms.errors"):
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "Something went wrong" in body and "Error 500" in body
    for leak in ("Traceback", "RuntimeError", "hunter2", 'File "'):
        assert leak not in body
    # ...but the operator gets the whole story in the log.
    assert any("Unhandled error on GET /boom" in r.getMessage() for r in caplog.records)
    assert any(r.exc_info and "hunter2" in str(r.exc_info[1]) for r in caplog.records)


def test_unexpected_api_error_is_problem_json(boom_app):
    response = boom_app.test_client().get("/api/boom")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 500 and problem["title"] == "Something went wrong"
    assert "hunter2" not in response.get_data(as_text=True)


def test_api_not_found_is_problem_json(client):
    response = client.get("/api/no-such-endpoint")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "Page not found"


def test_json_clients_get_problem_json_outside_the_api(client):
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("method", "path", "status", "title"),
    [
        ("get", "/no-such-page", 404, "Page not found"),
        ("get", "/auth/logout", 405, "Method not allowed"),
    ],
)
def test_templated_error_pages(client, method, path, status, title):
    response = getattr(client, method)(path)
    assert response.status_code == status
    body = response.get_data(as_text=True)
    assert f"<h1>{title}</h1>" in body
    assert "Go to the start page" in body
    assert "Content-Security-Policy" in response.headers


def test_too_large_upload_is_413_page(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/auth/login", data={"email": "x" * 5000, "password": "y"})
    assert response.status_code == 413
    assert "<h1>Too large</h1>" in response.get_data(as_text=True)


def test_403_page_is_templated(app, client):
    from tests.foundation_factories import login, make_user

    with app.app_context():
        from lms.extensions import db

        make_user("plain@example.org")
        db.session.commit()
    login(client, "plain@example.org")
    response = client.get("/admin/site")
    assert response.status_code == 403
    assert "<h1>Not allowed</h1>" in response.get_data(as_text=True)
