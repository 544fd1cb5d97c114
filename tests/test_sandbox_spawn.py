"""How a box is started: without forking the app, and never released before it is confined.

The gated spawn (``box._spawn_gated``) starts bwrap through setpriv, prlimit and a shell that
checks its parent, and holds the box on ``--block-fd`` until this process has moved it into its
memory cgroup. These tests check that the box ends up with the same user, limits and cgroup as
with the forked fallback, and that a box which cannot be confined never runs.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import textwrap
import threading
import time

import pytest

from virtual_labs import box, cgroups, uidpool
from virtual_labs.sandbox import Limits, run_program, sandbox_status

pytestmark = pytest.mark.sandbox

LIMITS = Limits(cpu_s=1, wall_s=3, memory_mb=128, procs=8, output_kb=64, file_kb=512)
LAUNCHER = {"setpriv", "prlimit", "dash", "sh"}
PROBE = """
import os, resource
print("uid", os.getuid())
for name in ("CPU", "AS", "FSIZE", "NOFILE", "CORE", "STACK", "NPROC"):
    print(name, resource.getrlimit(getattr(resource, "RLIMIT_" + name)))
print("memory", [l.split(":", 2)[2] for l in open("/proc/self/cgroup") if ":memory:" in l])
print("environ", repr(open("/proc/1/environ").read()))
"""


@pytest.fixture(autouse=True)
def _sandbox_required():
    ok, message = sandbox_status()
    if not ok:
        pytest.skip(f"sandbox unavailable: {message}")


def probe() -> str:
    result = run_program("python", {"main.py": textwrap.dedent(PROBE)}, limits=LIMITS)
    assert result.verdict == "ok", result
    return result.stdout


def test_gated_and_forked_spawns_confine_the_box_alike(monkeypatch):
    assert box.FAST_SPAWN, "setpriv, prlimit and a shell are installed here"
    gated = probe()
    monkeypatch.setattr(box, "FAST_SPAWN", False)
    forked = probe()
    assert gated.splitlines()[1:] == forked.splitlines()[1:]  # the pool uid may differ
    assert "NPROC" in gated and "environ ''" in gated
    if uidpool.IS_ROOT:
        uid = int(gated.split()[1])
        assert uid in uidpool.UIDS
        assert f"NPROC ({LIMITS.procs + 2}, {LIMITS.procs + 2})" in gated
    # The box's cgroup namespace is rooted at its own cgroup, as with the forked spawn.
    assert "memory ['/\\n']" in gated or not uidpool.IS_ROOT


def test_every_process_of_the_box_is_in_its_memory_cgroup():
    if not uidpool.IS_ROOT or cgroups.for_uid(uidpool.UIDS.start) is None:
        # Used only as root with a cgroup v1 memory hierarchy; boxes rely on rlimits otherwise.
        assert "memory cgroups under" not in cgroups.status()
        return
    token = str(secrets.randbelow(10**8)).zfill(8)  # in the argv of every process of the box
    seen: dict[int, str] = {}
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            for uid in uidpool.UIDS:
                for pid in uidpool.processes_of(uid):
                    with contextlib.suppress(OSError):
                        with open(f"/proc/{pid}/comm") as fh:
                            if fh.read().strip() in LAUNCHER:
                                continue  # not yet released: moved into the cgroup first
                        with open(f"/proc/{pid}/cmdline", "rb") as fh:
                            if token.encode() not in fh.read():
                                continue  # another run's box (the pool is machine-wide)
                        with open(f"/proc/{pid}/cgroup") as fh:
                            memory = [x for x in fh.read().splitlines() if ":memory:" in x]
                        seen[pid] = f"{uid} {memory[0] if memory else ''}"
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        code = "import subprocess, sys, time\nsubprocess.run(['sleep', '0.6' + sys.argv[1]])\n"
        result = run_program("python", {"main.py": code}, args=[token], limits=LIMITS)
    finally:
        stop.set()
        watcher.join()
    assert result.verdict == "ok", result
    assert len(seen) >= 3, seen  # bwrap's monitor, the box's pid 1, python, sleep
    for pid, where in seen.items():
        uid, memory = where.split(" ", 1)
        assert memory.endswith(f"/educluster-sandbox/uid-{uid}"), (pid, where)


class _BrokenCgroup:
    procs = "/nonexistent/educluster/cgroup.procs"

    def oom_killed(self) -> bool:
        return False


def test_a_box_that_cannot_be_moved_into_its_cgroup_never_runs(monkeypatch):
    monkeypatch.setattr(box, "_arm_cgroup", lambda uid, limits: _BrokenCgroup())
    result = run_program("python", {"main.py": "print('ran')\n"}, limits=LIMITS)
    assert result.verdict == "sandbox_error"
    assert "memory cgroup" in result.stderr
    assert "ran" not in result.stdout


def test_the_launcher_starts_bwrap_only_under_its_own_parent():
    launch = [box.SHELL, "-c", box._LAUNCH]
    me = str(os.getpid())

    def run(parent: str, *argv: str, go: bytes = b"go\n") -> subprocess.CompletedProcess:
        return subprocess.run([*launch, parent, *argv], input=go, capture_output=True, env={})

    assert (
        run(me, "/bin/cat", go=b"go\nthe program's own input").stdout == b"the program's own input"
    )
    # Had the worker died before the parent-death signal was armed, the parent would differ.
    orphan = run("1", "/bin/echo", "ran")
    assert (orphan.returncode, orphan.stdout) == (125, b"")
    # No go-ahead (the worker died, or could not confine the box): nothing runs.
    assert (run(me, "/bin/echo", "ran", go=b"").returncode, orphan.stdout) == (125, b"")
    assert run(me, "/usr/bin/env").stdout == b""  # the shell's PWD is not passed on to bwrap


def test_a_missing_bwrap_is_a_sandbox_error(monkeypatch, tmp_path):
    monkeypatch.setattr(box, "BWRAP", str(tmp_path / "no-bwrap"))
    argv = [str(tmp_path / "no-bwrap"), "--version"]
    outcome = box.run_box(lambda info, sec: argv, LIMITS, uid=None)
    assert outcome.setup_error and "could not start bwrap" in outcome.setup_error
