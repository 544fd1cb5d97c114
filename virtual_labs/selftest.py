"""The sandbox self-test behind ``flask labs selftest``: isolation and limits, checked for real.

Each check runs a small probe program through the same runner as learner code and judges the
result. The checks are plain data (name + function) so the CLI prints them as a report.
"""

from __future__ import annotations

import os
import secrets
import textwrap
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .languages import LANGUAGES
from .sandbox import Limits, RunResult, RunVerdict, run_program, sandbox_mode, sandbox_status

SMALL = Limits(cpu_s=1, wall_s=3, memory_mb=128, procs=8, output_kb=64, file_kb=256)
HELLO = {
    "python": 'print("hello, world")\n',
    "c": '#include <stdio.h>\nint main(void) { puts("hello, world"); return 0; }\n',
    "cpp": '#include <iostream>\nint main() { std::cout << "hello, world" << std::endl; }\n',
    "javascript": 'console.log("hello, world");\n',
}


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one sandbox self-test check."""

    name: str
    ok: bool
    detail: str


def _py(code: str, limits: Limits = SMALL, stdin: str = "") -> RunResult:
    return run_program("python", {"main.py": textwrap.dedent(code)}, stdin=stdin, limits=limits)


def _expect(result: RunResult, verdict: str, max_wall: float) -> tuple[bool, str]:
    ok = result.verdict == verdict and result.wall_s <= max_wall
    return ok, f"verdict {result.verdict} in {result.wall_s:.2f} s (expected {verdict})"


def check_status(_ctx) -> tuple[bool, str]:
    """Check: the sandbox is available on this host."""
    ok, message = sandbox_status(refresh=True)
    return ok, message


def check_languages(_ctx) -> tuple[bool, str]:
    """Check: every installed language compiles and runs hello world."""
    failures, done = [], []
    for key, lang in LANGUAGES.items():
        source = HELLO.get(key)
        if source is None:
            continue
        if not lang.available:
            failures.append(f"{key}: not installed ({lang.missing})")
            continue
        result = run_program(key, {lang.source_file: source})
        if result.verdict == RunVerdict.OK and result.stdout.strip() == "hello, world":
            done.append(key)
        else:
            failures.append(
                f"{key}: {result.verdict} {result.compile_output or result.stderr}"[:300]
            )
    return not failures, "; ".join(failures) or "hello world in " + ", ".join(done)


def check_identity(_ctx) -> tuple[bool, str]:
    """Check: programs run unprivileged, without capabilities, in a clean environment."""
    result = _py(
        """
        import os
        status = open("/proc/self/status").read()
        caps = [l.split()[1] for l in status.splitlines() if l.startswith("CapEff")]
        print(os.getuid(), os.getgid(), caps[0], sorted(os.environ))
        """
    )
    uid, gid, caps, env = (
        result.stdout.split(" ", 3) if result.verdict == RunVerdict.OK else ("?",) * 4
    )
    ok = uid not in ("0", "?") and caps == "0000000000000000" and "SECRET" not in env
    return ok, f"uid {uid}, gid {gid}, effective capabilities {caps}, environment {env.strip()}"


def check_network(_ctx) -> tuple[bool, str]:
    """Check: programs cannot open network connections."""
    result = _py(
        """
        import socket
        opened = []
        for host, port in [("127.0.0.1", 5432), ("127.0.0.1", 6379), ("1.1.1.1", 53),
                           ("8.8.8.8", 80)]:
            s = socket.socket()
            s.settimeout(1)
            try:
                s.connect((host, port))
                opened.append(f"{host}:{port}")
            except OSError:
                pass
        try:
            socket.getaddrinfo("example.com", 80)
            opened.append("dns")
        except OSError:
            pass
        print(",".join(opened) or "none")
        """
    )
    ok = result.verdict == RunVerdict.OK and result.stdout.strip() == "none"
    return ok, f"connections that succeeded: {result.stdout.strip() or result.verdict}"


def check_host_files(ctx) -> tuple[bool, str]:
    """Check: programs cannot see host secrets or the app's files."""
    paths = ["/etc/shadow", "/etc/passwd", "/root", "/home", "/usr/local", "/var"]
    paths += [ctx["app_root"], ctx["instance"]]
    result = _py(
        f"""
        import os
        seen = []
        for path in {paths!r}:
            if os.path.exists(path):
                seen.append(path)
        env = open("/proc/1/environ").read()
        if "SECRET" in env or "DATABASE" in env:
            seen.append("/proc/1/environ")
        print(",".join(seen) or "none")
        """
    )
    ok = result.verdict == RunVerdict.OK and result.stdout.strip() == "none"
    return ok, f"host paths visible: {result.stdout.strip() or result.verdict}"


def check_readonly(_ctx) -> tuple[bool, str]:
    """Check: programs cannot write to the system directories."""
    result = _py(
        """
        written = []
        for path in ["/usr/evil", "/evil", "/box/../usr/x", "/etc/evil"]:
            try:
                open(path, "w").write("x")
                written.append(path)
            except OSError:
                pass
        open("/tmp/scratch", "w").write("ok")
        print(",".join(written) or "none")
        """
    )
    ok = result.verdict == RunVerdict.OK and result.stdout.strip() == "none"
    return ok, f"writable outside the work directory and /tmp: {result.stdout.strip()}"


def check_ptrace(_ctx) -> tuple[bool, str]:
    """Check: programs cannot ptrace."""
    result = _py(
        """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
        print(libc.ptrace(16, 1, None, None), ctypes.get_errno())
        """
    )
    ok = result.verdict == RunVerdict.OK and result.stdout.split()[:1] == ["-1"]
    return ok, f"ptrace(PTRACE_ATTACH, 1) returned {result.stdout.strip() or result.verdict}"


def check_cpu(_ctx) -> tuple[bool, str]:
    """Check: a busy loop stops at the CPU limit."""
    return _expect(_py("while True:\n    pass\n"), "time_limit", SMALL.wall_s + 2)


def check_wall(_ctx) -> tuple[bool, str]:
    """Check: a sleeping program stops at the wall-clock limit."""
    return _expect(_py("import time\ntime.sleep(60)\n"), "time_limit", SMALL.wall_s + 2)


def check_memory(_ctx) -> tuple[bool, str]:
    """Check: a growing program stops at the memory limit."""
    result = _py("blocks = []\nwhile True:\n    blocks.append(bytearray(10**7))\n")
    return _expect(result, "memory_limit", SMALL.wall_s + 2)


def check_fork_bomb(_ctx) -> tuple[bool, str]:
    """Check: a fork bomb stops at the process limit."""
    result = _py(
        """
        import os, time
        children = 0
        for _ in range(200):
            try:
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                children += 1
            except OSError:
                break
        print(children)
        """
    )
    started = int(result.stdout.strip() or 0) if result.verdict == RunVerdict.OK else -1
    ok = 0 <= started < SMALL.procs and result.wall_s < SMALL.wall_s + 2
    return ok, f"{started} processes started under a limit of {SMALL.procs}, {result.verdict}"


def check_output_flood(_ctx) -> tuple[bool, str]:
    """Check: endless output stops at the output limit and is truncated."""
    result = _py("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n")
    ok, detail = _expect(result, "output_limit", SMALL.wall_s + 2)
    ok = ok and result.truncated and len(result.stdout) <= SMALL.output_kb * 1024
    return ok, f"{detail}, kept {len(result.stdout)} bytes"


def check_big_file(_ctx) -> tuple[bool, str]:
    """Check: writing a huge file stops at the file size limit."""
    result = _py("open('big', 'wb').write(b'x' * 10**8)\n")
    return _expect(result, "output_limit", SMALL.wall_s + 2)


def check_leftovers(_ctx) -> tuple[bool, str]:
    """Check: no process a program forks survives its run."""
    marker = f"selftest-daemon-{secrets.token_hex(8)}"
    result = _py(
        f"""
        import os
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv("/usr/bin/sleep", ["sleep", "60", "{marker}"])
            os._exit(0)
        print("parent done")
        """
    )
    time.sleep(0.2)
    survivors = processes_with(marker)
    ok = result.verdict == RunVerdict.OK and not survivors and result.wall_s < SMALL.wall_s
    return ok, f"a double-forked daemon: {len(survivors)} left after the run ({result.verdict})"


def processes_with(marker: str) -> list[int]:
    """Host processes whose command line contains ``marker`` (precise under concurrency)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/cmdline", "rb") as fh:
                    if marker.encode() in fh.read():
                        found.append(int(name))
            except OSError:
                continue
    return found


CHECKS: list[tuple[str, Callable]] = [
    ("sandbox available", check_status),
    ("languages compile and run", check_languages),
    ("unprivileged, no capabilities, clean environment", check_identity),
    ("no network", check_network),
    ("no host files", check_host_files),
    ("read-only system", check_readonly),
    ("no ptrace", check_ptrace),
    ("CPU limit", check_cpu),
    ("wall-clock limit", check_wall),
    ("memory limit", check_memory),
    ("process limit (fork bomb)", check_fork_bomb),
    ("output limit", check_output_flood),
    ("file size limit", check_big_file),
    ("nothing outlives a run", check_leftovers),
]


def run_selftest(app_root: str, instance_path: str, echo=None) -> list[CheckResult]:
    """Run every check and return the results in order.

    The sandbox must be available first; the other checks are independent runs and go in
    parallel (which also exercises concurrent boxes), a few at a time.
    """
    ctx = {"app_root": os.path.realpath(app_root), "instance": os.path.realpath(instance_path)}

    def run(entry) -> CheckResult:
        """Run one check, turning a crash into a failed result."""
        name, check = entry
        try:
            ok, detail = check(ctx)
        except Exception as exc:  # noqa: BLE001 (a crashing check is a failed check)
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        return CheckResult(name, ok, detail)

    first = run(CHECKS[0])
    results = [first]
    if echo:
        echo(first)
    if not first.ok:
        return results
    with ThreadPoolExecutor(max_workers=4) as pool:
        for result in pool.map(run, CHECKS[1:]):
            results.append(result)
            if echo:
                echo(result)
    return results


__all__ = ["CheckResult", "run_selftest", "sandbox_mode", "CHECKS"]
