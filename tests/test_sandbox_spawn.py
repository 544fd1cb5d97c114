"""How a box is started: without forking the app, and never released before it is confined.

As root, a box's bwrap is spawned by its pool uid's long-lived launcher, which sits in the uid's
memory cgroup (``spawn.spawn_launched``). The gated spawn (``spawn.spawn_gated``) starts bwrap
through setpriv, prlimit and a shell that checks its parent and waits for a go-ahead until this
process has moved it into its memory cgroup. These tests check that the box ends up with the
same user, limits and cgroup all three ways, and that a box which cannot be confined never runs.
"""

from __future__ import annotations

import array
import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from virtual_labs import box, cgroups, launcher, uidpool
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


def test_launched_gated_and_forked_spawns_confine_the_box_alike(monkeypatch):
    assert box.FAST_SPAWN, "setpriv, prlimit and a shell are installed here"
    assert box.LAUNCHER == uidpool.IS_ROOT  # the launchers serve the pool
    launched = probe()
    monkeypatch.setattr(box, "LAUNCHER", False)
    gated = probe()
    monkeypatch.setattr(box, "FAST_SPAWN", False)
    forked = probe()
    assert gated.splitlines()[1:] == forked.splitlines()[1:]  # the pool uid may differ
    # Counted alike: a launched box's limits are set on its pid 1, not on bwrap's monitor.
    nproc = f"NPROC ({LIMITS.procs + 2}, {LIMITS.procs + 2})"
    launched_nproc = f"NPROC ({LIMITS.procs + 1}, {LIMITS.procs + 1})"
    assert launched.replace(launched_nproc, nproc).splitlines()[1:] == gated.splitlines()[1:]
    assert "NPROC" in gated and "environ ''" in gated
    if uidpool.IS_ROOT:
        uid = int(gated.split()[1])
        assert uid in uidpool.UIDS
        assert nproc in gated and launched_nproc in launched
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


def test_a_launched_box_whose_limits_cannot_be_set_never_runs(monkeypatch):
    """The launcher holds bwrap at its block descriptor until pid 1 has its limits: a limit it
    cannot set kills the box before the program starts, and the next run works again."""
    from virtual_labs import spawn

    if not launcher.ENABLED:
        pytest.skip("launchers serve the pool, as root")
    real = spawn.rlimits
    monkeypatch.setattr(spawn, "rlimits", lambda *a, **k: [*real(*a, **k), (4096, (1, 1))])
    marker = secrets.token_hex(4)
    result = run_program("python", {"main.py": f"print('ran {marker}')\n"}, limits=LIMITS)
    assert result.verdict == "sandbox_error"
    assert "could not confine the box" in result.stderr
    assert marker not in result.stdout
    monkeypatch.setattr(spawn, "rlimits", real)
    assert run_program("python", {"main.py": "print(1)"}, limits=LIMITS).stdout == "1\n"


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


def _processes_with(token: str) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{name}/cmdline", "rb") as fh:
                if token.encode() in fh.read():
                    found.append(int(name))
    return found


def test_a_killed_worker_takes_its_launchers_and_their_boxes_along(tmp_path):
    """The launcher kills its running box and exits when the app's end of its socket closes."""
    if not launcher.ENABLED:
        pytest.skip("launchers serve the pool, as root")
    token = str(secrets.randbelow(10**8)).zfill(8)
    script = tmp_path / "worker.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys, threading
            sys.path.insert(0, {os.getcwd()!r})
            from virtual_labs import launcher
            from virtual_labs.sandbox import Limits, run_program
            run_program("python", {{"main.py": "print(1)"}})
            print(*[l.proc.pid for l in launcher._launchers.values()], flush=True)
            code = "import time\\ntime.sleep(20)\\n"
            limits = Limits(wall_s=30, cpu_s=30)
            run_program("python", {{"main.py": code}}, args=[{token!r}], limits=limits)
            """
        )
    )
    worker = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        launchers = [int(pid) for pid in worker.stdout.readline().split()]
        assert launchers
        deadline = time.monotonic() + 10
        while not _processes_with(token) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _processes_with(token), "the box is running"
    finally:
        worker.kill()  # SIGKILL: no clean-up of its own
        worker.wait()
    deadline = time.monotonic() + 5
    while (_processes_with(token) or _alive(launchers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_with(token) == []
    assert not _alive(launchers)


def _alive(pids: list[int]) -> bool:
    alive = False
    for pid in pids:
        with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as fh:
            alive = alive or fh.read().split(") ", 1)[1][0] != "Z"
    return alive


def test_a_forked_worker_starts_launchers_of_its_own():
    """A Celery prefork child must not talk to its parent's launchers (their sockets)."""
    if not launcher.ENABLED:
        pytest.skip("launchers serve the pool, as root")
    assert run_program("python", {"main.py": "print(1)"}).stdout == "1\n"
    assert launcher.warm_uids()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        status = 1
        try:
            fresh = not launcher.warm_uids()
            ran = run_program("python", {"main.py": "print(2)"}).stdout == "2\n"
            os.write(write, f"{fresh} {ran}".encode())
            launcher.stop_all()
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    with os.fdopen(read) as fh:
        answer = fh.read()
    assert os.waitpid(pid, 0)[1] == 0
    assert answer == "True True"
    assert run_program("python", {"main.py": "print(3)"}).stdout == "3\n"  # ours still work


def test_a_launcher_serves_only_an_unprivileged_uid_and_keeps_its_socket_to_itself():
    from virtual_labs import launcher_main

    for uid in ("0", "-1"):
        with pytest.raises(SystemExit):
            launcher_main.main(["launcher_main.py", "0", uid])
    if not launcher.ENABLED:
        return
    # The box sees only its three streams: not the launcher's socket, nor its other descriptors.
    code = "import os\nprint(sorted(os.listdir('/proc/self/fd')))\n"
    assert run_program("python", {"main.py": code}).stdout == "['0', '1', '2', '3']\n"


def test_discarding_a_failed_launcher_kills_what_still_runs_as_its_uid():
    """A launcher killed just after starting a box leaves it behind: the caller, which holds the
    uid's lease, discards the launcher and with it every process of that uid."""
    if not launcher.ENABLED:
        pytest.skip("launchers serve the pool, as root")
    with uidpool.lease_uid() as lease:
        left = subprocess.Popen(["sleep", "30"], user=lease.uid, group=lease.uid, extra_groups=[])
        try:
            launcher.discard(lease.uid)
            assert left.wait(timeout=5) == -9
        finally:
            left.kill()
            left.wait()


def test_a_box_held_at_its_gate_never_runs_once_the_app_is_gone():
    """The app's end closes before the launcher has answered (a worker killed just after its
    request): bwrap reads the closing of its block pipe as a go-ahead, so the launcher must
    kill the held box before it exits, never leave it to run without its limits."""
    if not launcher.ENABLED:
        pytest.skip("launchers serve the pool, as root")
    token = str(secrets.randbelow(10**8)).zfill(8)
    argv = [box.BWRAP, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/"]
    argv += ["/bin/sleep", f"9.{token}"]
    with uidpool.lease_uid() as lease:
        server = launcher.Launcher(lease.uid, None)
        null = os.open(os.devnull, os.O_RDWR)
        try:
            request = json.dumps({"argv": argv, "rlimits": []}).encode()
            rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [null] * 3))]
            server.sock.sendmsg([request], rights)
            server.close()  # before its "started": the launcher's answer finds no reader
            time.sleep(0.5)
            programs = [pid for pid in _processes_with(token) if _comm(pid) == "sleep"]
            assert programs == [], "the box ran after its launcher was gone"
        finally:
            os.close(null)
            for pid in uidpool.processes_of(lease.uid):
                with contextlib.suppress(OSError):
                    os.kill(pid, 9)


def _comm(pid: int) -> str:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/comm") as fh:
        return fh.read().strip()
    return ""
