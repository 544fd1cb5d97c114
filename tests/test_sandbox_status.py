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


def test_base_directory_is_private_and_swept_of_stale_work_dirs(monkeypatch, tmp_path):
    import os
    import stat

    from virtual_labs import uidpool

    base = tmp_path / "sandbox"
    monkeypatch.setenv("LAB_SANDBOX_DIR", str(base))
    monkeypatch.setattr(uidpool, "_base_ready", None)
    assert uidpool.ensure_base_dir() == str(base)
    assert stat.S_IMODE(base.stat().st_mode) == 0o711  # traversable, not listable
    assert stat.S_IMODE((base / "locks").stat().st_mode) == 0o700
    stale, fresh = base / "prep-stale", base / "prep-fresh"
    stale.mkdir()
    fresh.mkdir()
    os.utime(stale, (0, 0))
    monkeypatch.setattr(uidpool, "_base_ready", None)
    uidpool.ensure_base_dir()
    assert not stale.exists() and fresh.exists()


def test_base_directory_owned_by_someone_else_is_refused(monkeypatch, tmp_path):
    import os

    from virtual_labs import uidpool

    base = tmp_path / "elsewhere"
    base.mkdir()
    if os.geteuid() == 0:
        os.chown(base, 12345, 12345)
    else:
        base.rmdir()
        base.symlink_to(tmp_path)  # a symlink is refused as well
    monkeypatch.setenv("LAB_SANDBOX_DIR", str(base))
    monkeypatch.setattr(uidpool, "_base_ready", None)
    with pytest.raises(OSError):
        uidpool.ensure_base_dir()


def test_status_probe_flags_a_box_that_is_not_isolated():
    good = "60001\nCapEff:\t0000000000000000\nNoNewPrivs:\t1\nend\n"
    assert sandbox._probe_problems(good) == []
    assert "runs as root" in sandbox._probe_problems(good.replace("60001", "0"))[0]
    leaky = "60001\nCapEff:\t000001ffffffffff\n/etc/shadow\n/root\nend\n"
    assert sandbox._probe_problems(leaky) == [
        "the box keeps capabilities",
        "host files are visible",
    ]
    assert "did not finish" in sandbox._probe_problems("60001\nCapEff:\t0000000000000000\n")[0]


def test_memory_cgroups_can_be_switched_off_and_read_their_oom_counter(monkeypatch, tmp_path):
    from virtual_labs import cgroups

    monkeypatch.setenv("LAB_SANDBOX_CGROUPS", "0")
    assert cgroups.for_uid(60000) is None
    assert cgroups.for_uid(None) is None
    fake = cgroups.BoxCgroup(str(tmp_path), 60000)
    (tmp_path / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n")
    fake.arm(64 << 20)
    assert (tmp_path / "memory.limit_in_bytes").read_text() == str(64 << 20)
    assert not fake.oom_killed()
    (tmp_path / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 4\n")
    assert fake.oom_killed()
