"""The Jobe-compatible runner API, checked against the Jobe behaviours CodeRunner relies on:
languages, outcome codes, support files, API keys and their hourly budget, overload, bad input."""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
import textwrap

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from tests.factories import make_user
from virtual_labs import uidpool
from virtual_labs.jobe import keys
from virtual_labs.jobe.models import JobeApiKey, JobeFile
from virtual_labs.jobe.runner import gate

API = "/jobe/index.php/restapi"


@pytest.fixture(autouse=True)
def _sandbox_required():
    from virtual_labs.sandbox import sandbox_status

    ok, message = sandbox_status()
    if not ok:
        pytest.skip(f"sandbox unavailable: {message}")


@pytest.fixture
def api(app, client):
    """A client that sends a fresh key's X-API-KEY with every request."""
    with app.app_context():
        admin = make_user(is_site_admin=True)
        _, secret = keys.issue_key("Moodle test site", 1000, admin)
        db.session.commit()

    class Api:
        key = secret

        def run(self, run_spec=None, *, body=None, path="/runs", **kw):
            payload = body if body is not None else {"run_spec": run_spec}
            return client.post(API + path, json=payload, headers={"X-API-KEY": self.key}, **kw)

        def call(self, method, path, **kw):
            headers = {"X-API-KEY": self.key, **kw.pop("headers", {})}
            return getattr(client, method)(API + path, headers=headers, **kw)

    return Api()


pytestmark = pytest.mark.sandbox


def outcome(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_json()
    assert set(data) == {"run_id", "outcome", "cmpinfo", "stdout", "stderr"}
    return data


def test_languages_lists_jobe_ids_with_versions(api):
    response = api.call("get", "/languages")
    assert response.status_code == 200
    pairs = dict(response.get_json())
    assert set(pairs) == {"python3", "c", "cpp", "nodejs", "java"}
    assert all(version[0].isdigit() for version in pairs.values()), pairs


def test_python_success_with_input_and_both_url_forms(api):
    spec = {"language_id": "python3", "sourcecode": "print(input()[::-1])", "input": "abc\n"}
    for path in ("/runs", "/runs/"):
        data = outcome(api.run(spec, path=path))
        assert data["outcome"] == 15 and data["stdout"] == "cba\n" and data["stderr"] == ""


def test_coderunner_style_file_names_and_runargs(api):
    src = "import sys\nprint(sys.argv[1:])\n"
    spec = {
        "language_id": "python3",
        "sourcecode": src,
        "sourcefilename": "__tester__.python3",
        "parameters": {"runargs": ["a", "b c"], "cputime": 3, "memorylimit": 200},
    }
    assert outcome(api.run(spec))["stdout"] == "['a', 'b c']\n"


def test_compile_errors_are_outcome_11_with_cmpinfo(api):
    c = outcome(api.run({"language_id": "c", "sourcecode": "int main(void) { return 1 }"}))
    assert c["outcome"] == 11 and "error" in c["cmpinfo"]
    py = outcome(api.run({"language_id": "python3", "sourcecode": "def f(:\n  pass\n"}))
    assert py["outcome"] == 11 and "SyntaxError" in py["cmpinfo"]


def test_runtime_time_and_memory_outcomes(api):
    runtime = outcome(api.run({"language_id": "python3", "sourcecode": "print(1 // 0)"}))
    assert runtime["outcome"] == 12 and "ZeroDivisionError" in runtime["stderr"]
    loop = {
        "language_id": "python3",
        "sourcecode": "while True: pass",
        "parameters": {"cputime": 1},
    }
    assert outcome(api.run(loop))["outcome"] == 13
    hog = {
        "language_id": "python3",
        "sourcecode": "x = bytearray(400 * 1024 * 1024)\nprint(len(x))",
        "parameters": {"memorylimit": 64},
    }
    assert outcome(api.run(hog))["outcome"] == 17


def test_a_program_killed_for_a_system_call_is_outcome_19(api):
    source = "import os, signal\nos.kill(os.getpid(), signal.SIGSYS)\n"
    assert outcome(api.run({"language_id": "python3", "sourcecode": source}))["outcome"] == 19


def test_c_cpp_nodejs_and_java_run(api):
    programs = {
        "c": '#include <stdio.h>\nint main(void){int a,b; scanf("%d %d",&a,&b); printf("%d\\n",a+b);}',
        "cpp": "#include <iostream>\nint main(){int a,b; std::cin>>a>>b; std::cout<<a+b<<std::endl;}",
        "nodejs": "const [a,b]=require('fs').readFileSync(0,'utf8').split(' ').map(Number);"
        "console.log(a+b);",
    }
    for language, source in programs.items():
        data = outcome(api.run({"language_id": language, "sourcecode": source, "input": "2 40"}))
        assert (data["outcome"], data["stdout"]) == (15, "42\n"), (language, data)
    java = textwrap.dedent(
        """
        import java.util.Scanner;
        public final class Adder {
            public static void main(String[] args) {
                Scanner in = new Scanner(System.in);
                System.out.println(in.nextInt() + in.nextInt());
            }
        }
        """
    )
    # No sourcefilename (or CodeRunner's generic one): the class name comes from the source.
    for name in (None, "__tester__.java"):
        spec = {"language_id": "java", "sourcecode": java, "input": "2 40", "sourcefilename": name}
        data = outcome(api.run(spec))
        assert (data["outcome"], data["stdout"]) == (15, "42\n"), data


def test_support_files_put_head_and_use(api, app):
    assert api.call("head", "/files/abc123").status_code == 404
    content = base64.b64encode(b"41\n").decode()
    put = api.call("put", "/files/abc123", json={"file_contents": content})
    assert put.status_code == 204
    assert api.call("head", "/files/abc123").status_code == 204
    spec = {
        "language_id": "python3",
        "sourcecode": "print(int(open('data.txt').read()) + 1)",
        "file_list": [["abc123", "data.txt"]],
    }
    assert outcome(api.run(spec))["stdout"] == "42\n"
    spec["file_list"] = [["never-put", "data.txt"]]
    missing = api.run(spec)
    assert missing.status_code == 404 and "never-put" in missing.get_json()["detail"]


def _leftovers() -> set[str]:
    return set(os.listdir(uidpool.ensure_base_dir()))


@pytest.fixture
def private_sandbox_base(monkeypatch):
    """A sandbox base of this test's own: the machine-wide one sees other workers' runs."""
    path = tempfile.mkdtemp(prefix="educluster-sandbox-test-", dir="/tmp")
    os.chmod(path, 0o711)
    monkeypatch.setenv("LAB_SANDBOX_DIR", path)
    yield path
    shutil.rmtree(path, ignore_errors=True)


BAD_RUNS = [
    ({"run_spec": {"sourcecode": "print(1)"}}, "language_id is required"),
    ({"run_spec": {"language_id": "python3"}}, "sourcecode is required"),
    ({"run_spec": {"language_id": "cobol", "sourcecode": "x"}}, "not known"),
    ({"run_spec": {"language_id": "python3", "sourcecode": 5}}, "must be a string"),
    ({"language_id": "python3"}, "run_spec"),
    ({"run_spec": {"language_id": "python3", "sourcecode": "x", "colour": 1}}, "Unknown run_spec"),
]
BAD_PARAMETERS = [
    {"cputime": -1},
    {"cputime": 10**9},
    {"cputime": "5"},
    {"cputime": True},
    {"memorylimit": -5},
    {"numprocs": 1000},
    {"runargs": "x" * 300},
    {"runargs": [1, 2]},
    {"compileargs": ["ok"] * 100},
    {"sandboxhack": 1},
]
BAD_FILE_LISTS = [
    [["abc", "../../etc/passwd"]],
    [["abc", "/etc/passwd"]],
    [["abc", "sub/dir.txt"]],
    [["../x", "data.txt"]],
    [["abc"]],
    "abc",
]


def test_bad_requests_get_a_clear_400_and_leave_nothing_behind(api, app, private_sandbox_base):
    before = _leftovers()
    cases = [(body, hint) for body, hint in BAD_RUNS]
    for params in BAD_PARAMETERS:
        body = {"run_spec": {"language_id": "python3", "sourcecode": "x", "parameters": params}}
        cases.append((body, "parameter"))
    for file_list in BAD_FILE_LISTS:
        body = {"run_spec": {"language_id": "python3", "sourcecode": "x", "file_list": file_list}}
        cases.append((body, "file"))
    for body, hint in cases:
        response = api.run(body=body)
        assert response.status_code == 400, (body, response.get_data(as_text=True))
        assert response.mimetype == "application/problem+json"
        assert hint.lower() in response.get_json()["detail"].lower(), (body, response.get_json())
    malformed = api.call("post", "/runs", data="{not json", content_type="application/json")
    assert malformed.status_code == 400 and "JSON" in malformed.get_json()["detail"]
    huge = {"run_spec": {"language_id": "python3", "sourcecode": "#" * (20 * 1024 * 1024)}}
    too_big = api.run(body=huge)
    assert too_big.status_code == 400 and "larger" in too_big.get_json()["detail"]
    for body in ({"file_contents": "not base64!!"}, {"file_contents": 12}, {}):
        assert api.call("put", "/files/f1", json=body).status_code == 400
    assert api.call("put", "/files/..%2F..%2Fetc", json={"file_contents": ""}).status_code in (
        400,
        404,
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(JobeFile)) == 0
        assert db.session.scalar(select(JobeApiKey.runs_total)) == 0  # refusals cost nothing
    assert _leftovers() == before


def test_api_keys_required_revocable_and_rate_limited(api, app, client):
    assert client.get(API + "/languages").status_code == 401
    wrong = client.get(API + "/languages", headers={"X-API-KEY": "jobe_nope"})
    assert wrong.status_code == 403
    with app.app_context():
        key = db.session.scalar(select(JobeApiKey))
        key.hourly_limit = 2
        db.session.commit()
    spec = {"language_id": "python3", "sourcecode": "print(1)"}
    assert outcome(api.run(spec))["outcome"] == 15
    assert outcome(api.run(spec))["outcome"] == 15
    third = api.run(spec)
    assert third.status_code == 429 and 0 < int(third.headers["Retry-After"]) <= 3600
    with app.app_context():
        key = db.session.scalar(select(JobeApiKey))
        assert (key.window_runs, key.runs_total) == (2, 2)
        # A new hour brings a new budget.
        assert keys.spend_run(key.id, hour=keys.current_hour() + 1)
        keys.revoke_key(key)
        db.session.commit()
    assert api.call("get", "/languages").status_code == 403


def test_overload_answers_21_at_once(api, app):
    app.config["LAB_JOBE_QUEUE"] = 0
    held = gate(app)
    taken = 0
    while held.slots.acquire(blocking=False):
        taken += 1
    try:
        data = outcome(api.run({"language_id": "python3", "sourcecode": "print(1)"}))
        assert data["outcome"] == 21
    finally:
        for _ in range(taken):
            held.slots.release()
    assert outcome(api.run({"language_id": "python3", "sourcecode": "print(1)"}))["outcome"] == 15


def test_site_admin_issues_and_revokes_keys(app, client):
    with app.app_context():
        admin = make_user(email="root@example.test", is_site_admin=True)
        learner = make_user(email="learner@example.test")
        db.session.commit()
        admin_email, learner_email = admin.email, learner.email
    client.post("/auth/login", data={"email": learner_email, "password": "demo-pass-2026"})
    assert client.get("/admin/site/jobe-keys/").status_code == 403
    client.post("/auth/logout")
    client.post("/auth/login", data={"email": admin_email, "password": "demo-pass-2026"})
    bad = client.post("/admin/site/jobe-keys/", data={"name": "", "hourly_limit": "-3"})
    assert bad.status_code == 400 and b"Enter a name" in bad.data
    page = client.post("/admin/site/jobe-keys/", data={"name": "Moodle", "hourly_limit": "50"})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    secret = page.get_data(as_text=True).split('aria-label="New Jobe API key">')[1].split("<")[0]
    assert client.get(API + "/languages", headers={"X-API-KEY": secret}).status_code == 200
    with app.app_context():
        key_id = db.session.scalar(select(JobeApiKey.id))
    client.post(f"/admin/site/jobe-keys/{key_id}/revoke")
    assert client.get(API + "/languages", headers={"X-API-KEY": secret}).status_code == 403
