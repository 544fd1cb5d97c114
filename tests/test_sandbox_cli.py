"""``flask labs exec`` and ``flask labs selftest``: the operators' (and acceptance checks') interface."""

from __future__ import annotations

import json

import pytest

from virtual_labs.sandbox import sandbox_status

pytestmark = pytest.mark.sandbox

KEYS = [
    "verdict",
    "exit_code",
    "signal",
    "stdout",
    "stderr",
    "compile_output",
    "cpu_s",
    "wall_s",
    "memory_kb",
    "truncated",
]


@pytest.fixture(autouse=True)
def _sandbox_required():
    ok, message = sandbox_status()
    if not ok:
        pytest.skip(f"sandbox unavailable: {message}")


def run_exec(runner, *args):
    result = runner.invoke(args=["labs", "exec", *map(str, args)])
    return result, (json.loads(result.output) if result.exit_code == 0 else None)


def test_exec_prints_one_json_object(runner, tmp_path):
    source = tmp_path / "solution.py"
    source.write_text("import sys\nprint(sys.stdin.read().upper(), end='')\n")
    stdin = tmp_path / "input.txt"
    stdin.write_text("hello\n")
    result, data = run_exec(runner, "--language", "python", "--stdin", stdin, source)
    assert result.exit_code == 0, result.output
    assert result.output.count("\n") == 1  # exactly one line: one JSON object
    assert list(data) == KEYS
    assert data["verdict"] == "ok" and data["stdout"] == "HELLO\n"
    assert data["exit_code"] == 0 and data["signal"] is None and data["truncated"] is False


def test_exec_exits_zero_whatever_the_verdict(runner, tmp_path):
    source = tmp_path / "boom.py"
    source.write_text("raise SystemExit(4)\n")
    result, data = run_exec(runner, "--language", "python", source)
    assert result.exit_code == 0
    assert data["verdict"] == "runtime_error" and data["exit_code"] == 4

    broken = tmp_path / "broken.c"
    broken.write_text("int main( {")
    result, data = run_exec(runner, "--language", "c", broken)
    assert result.exit_code == 0
    assert data["verdict"] == "compile_error" and "error" in data["compile_output"]


def test_exec_limit_options(runner, tmp_path):
    sleeper = tmp_path / "sleep.py"
    # Three seconds of sleep fit the default wall limit (5 s): only --wall 0.5 makes it a
    # time limit. No upper bound on the measured time: a loaded machine is slow, not wrong.
    sleeper.write_text("import time\ntime.sleep(3)\nprint('woke up')\n")
    result, data = run_exec(runner, "--language", "python", "--wall", "0.5", sleeper)
    assert data["verdict"] == "time_limit" and data["stdout"] == ""

    flood = tmp_path / "flood.py"
    flood.write_text("while True:\n    print('x' * 1000)\n")
    result, data = run_exec(runner, "--language", "python", "--output-kb", "4", flood)
    assert data["verdict"] == "output_limit" and data["truncated"]
    assert len(data["stdout"]) == 4096

    hog = tmp_path / "hog.py"
    hog.write_text("x = bytearray(200 * 1024 * 1024)\n")
    result, data = run_exec(runner, "--language", "python", "--memory", "64", hog)
    assert data["verdict"] == "memory_limit"

    # Spinning for 1.5 CPU seconds fits the default CPU limit (2 s): only --cpu 0.5 stops it.
    # The wall limit is far away, so a CPU-starved run on a busy machine is still stopped by
    # the CPU limit (CPU time does not grow with the load; wall-clock time does).
    spin = tmp_path / "spin.py"
    spin.write_text("import time\nwhile time.process_time() < 1.5:\n    pass\nprint('finished')\n")
    result, data = run_exec(runner, "--language", "python", "--cpu", "0.5", "--wall", "60", spin)
    assert data["verdict"] == "time_limit" and data["stdout"] == ""
    assert data["cpu_s"] < 1.5

    forks = tmp_path / "forks.py"
    forks.write_text(
        "import os, time\nn = 0\ntry:\n    while True:\n        if os.fork() == 0:\n"
        "            time.sleep(3)\n            os._exit(0)\n        n += 1\nexcept OSError:\n"
        "    print(n)\n"
    )
    result, data = run_exec(runner, "--language", "python", "--procs", "3", forks)
    assert data["verdict"] == "ok" and int(data["stdout"]) < 3


def test_exec_extra_files_sit_next_to_the_source(runner, tmp_path):
    source = tmp_path / "prog.c"
    source.write_text(
        '#include <stdio.h>\n#include "answer.h"\nint main(void) { printf("%d\\n", ANSWER); }\n'
    )
    header = tmp_path / "answer.h"
    header.write_text("#define ANSWER 42\n")
    data_file = tmp_path / "data.txt"
    data_file.write_text("ignored")
    result, data = run_exec(runner, "--language", "c", source, header, data_file)
    assert data["verdict"] == "ok" and data["stdout"] == "42\n"


def test_exec_usage_errors_exit_non_zero(runner, tmp_path):
    source = tmp_path / "x.py"
    source.write_text("print(1)")
    assert runner.invoke(args=["labs", "exec", "--language", "cobol", str(source)]).exit_code == 2
    assert runner.invoke(args=["labs", "exec", "--language", "python"]).exit_code == 2
    missing = runner.invoke(args=["labs", "exec", "--language", "python", "/nonexistent.py"])
    assert missing.exit_code == 2
    bad = runner.invoke(args=["labs", "exec", "--language", "python", "--wall", "-1", str(source)])
    assert bad.exit_code == 2


def test_exec_refuses_to_run_without_a_sandbox(runner, tmp_path, monkeypatch):
    import virtual_labs.cli as cli

    monkeypatch.setattr(cli, "sandbox_status", lambda: (False, "Labs are disabled: no bwrap."))
    source = tmp_path / "x.py"
    source.write_text("print(1)")
    result = runner.invoke(args=["labs", "exec", "--language", "python", str(source)])
    assert result.exit_code == 1
    assert "Labs are disabled" in result.output


def test_selftest_passes_and_reports_each_check(runner):
    result = runner.invoke(args=["labs", "selftest"])
    assert result.exit_code == 0, result.output
    for check in (
        "no network",
        "no host files",
        "CPU limit",
        "memory limit",
        "fork bomb",
        "output limit",
    ):
        assert check in result.output
    assert "FAIL" not in result.output
    assert "All 14 checks passed." in result.output


def test_selftest_fails_loudly(runner, monkeypatch):
    import virtual_labs.selftest as selftest

    monkeypatch.setattr(
        selftest,
        "CHECKS",
        [("sandbox available", lambda ctx: (True, "ok")), ("broken", lambda ctx: (False, "leak"))],
    )
    result = runner.invoke(args=["labs", "selftest"])
    assert result.exit_code == 1
    assert "FAIL  broken: leak" in result.output
