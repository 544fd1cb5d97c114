"""Without bubblewrap, labs are disabled with a clear message and learner code never runs."""

from __future__ import annotations

import pytest

from virtual_labs import box, sandbox


@pytest.fixture
def no_bwrap(monkeypatch, tmp_path):
    missing = str(tmp_path / "no-bwrap")
    monkeypatch.setattr(sandbox, "BWRAP", missing)
    monkeypatch.setattr(box, "BWRAP", missing)
    yield
    monkeypatch.undo()
    sandbox.sandbox_status(refresh=True)  # back to the real answer for later tests


def test_missing_bwrap_disables_labs_with_a_clear_message(no_bwrap):
    ok, message = sandbox.sandbox_status(refresh=True)
    assert ok is False
    assert "Labs are disabled" in message and "bubblewrap" in message
    assert sandbox.sandbox_status() == (ok, message)  # cached


def test_a_run_without_bwrap_is_a_sandbox_error_never_an_unsandboxed_run(no_bwrap, tmp_path):
    marker = tmp_path / "ran-unsandboxed"
    code = f"open({str(marker)!r}, 'w').write('oops')\n"
    result = sandbox.run_program("python", {"main.py": code})
    assert result.verdict == "sandbox_error"
    assert "sandbox error" in result.stderr
    assert not marker.exists()
