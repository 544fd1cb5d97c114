"""Watch a running box: feed its input, read its output, enforce the wall and output limits,
and reap it with the usage figures of everything that ran inside.

The supervising half of a box (``box`` builds the command line and starts it). Output is read
incrementally with ``selectors``; at the output cap or the wall limit the program is killed,
bwrap's pid 1 then exits and the kernel kills everything else in the box's pid namespace, so
nothing outlives a run. This process reaps that pid 1 itself (as a child subreaper) to get the
usage figures of the whole box.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass

_GRACE_S = 1.0
_CHUNK = 65536


@dataclass
class BoxOutcome:
    """What happened in a box, before any verdict is given."""

    exit_code: int | None = None
    signal: int | None = None
    stdout: bytes = b""
    stderr: bytes = b""
    overflow: bool = False
    timed_out: bool = False
    cpu_s: float = 0.0
    wall_s: float = 0.0
    memory_kb: int = 0
    oom_killed: bool = False
    setup_error: str | None = None


def _read_child_pid(fd: int) -> int | None:
    with contextlib.suppress(OSError):
        match = re.search(rb'"child-pid"\s*:\s*(\d+)', os.read(fd, 4096))
        if match:
            return int(match.group(1))
    return None


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def _kill_program(init: int | None, monitor: int, uid: int | None) -> None:
    """Stop a box at a limit: kill the program, so that the box's pid 1 reaps it.

    That keeps its CPU time and peak memory in the usage figures (when pid 1 itself dies, the
    kernel tears the pid namespace down and reaps the rest without accounting), and pid 1 then
    exits, taking every remaining process of the box with it. When the program cannot be found
    the monitor is killed instead: pid 1 follows it (--die-with-parent), and so does the box.
    """
    killed = False
    if init is not None:
        try:
            with open(f"/proc/{init}/task/{init}/children") as fh:
                children = [int(pid) for pid in fh.read().split()]
        except (OSError, ValueError):
            children = []
        for pid in children:
            # Only a process of the box's own user (a pid could have been reused meanwhile).
            with contextlib.suppress(OSError):
                if uid is None or os.stat(f"/proc/{pid}").st_uid == uid:
                    _kill(pid)
                    killed = True
    if not killed:
        _kill(monitor)


def _supervise(
    proc: subprocess.Popen,
    stdin: bytes,
    deadline: float,
    cap: int,
    info_fd: int,
    uid,
) -> BoxOutcome:
    outcome = BoxOutcome()
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    buffers = {out_fd: bytearray(), err_fd: bytearray()}
    pidfd = os.pidfd_open(proc.pid)
    sel = selectors.DefaultSelector()
    for fd in buffers:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    sel.register(pidfd, selectors.EVENT_READ)
    stdin_fd = proc.stdin.fileno()
    pending = memoryview(stdin)
    if pending:
        os.set_blocking(stdin_fd, False)
        sel.register(stdin_fd, selectors.EVENT_WRITE)
    else:
        proc.stdin.close()
    exited = killed = False
    kill_deadline = deadline

    box_init: list[int | None] = []

    def init_pid() -> int | None:
        if not box_init:
            box_init.append(_read_child_pid(info_fd))
        return box_init[0]

    def kill_box() -> None:
        nonlocal killed, kill_deadline
        if not killed:
            killed = True
            kill_deadline = time.monotonic() + _GRACE_S
            _kill_program(init_pid(), proc.pid, uid)

    try:
        while not (exited and out_fd not in sel.get_map() and err_fd not in sel.get_map()):
            now = time.monotonic()
            if now >= kill_deadline:
                if killed:
                    _kill(proc.pid)  # the box did not go quietly: take its monitor down
                    break
                outcome.timed_out = True
                kill_box()
                continue
            for key, _ in sel.select(kill_deadline - now):
                if key.fd == pidfd:
                    exited = True
                    sel.unregister(pidfd)
                elif key.fd == stdin_fd:
                    try:
                        pending = pending[os.write(stdin_fd, pending[:_CHUNK]) :]
                    except BlockingIOError:
                        continue
                    except OSError:  # the program closed its stdin or exited: fine
                        pending = pending[:0]
                    if not pending:
                        sel.unregister(stdin_fd)
                        proc.stdin.close()
                else:
                    state = _drain(key.fd, buffers[key.fd], cap)
                    if state is not None:
                        sel.unregister(key.fd)
                    if state == "overflow":
                        outcome.overflow = True
                        kill_box()
    finally:
        sel.close()
        os.close(pidfd)
        with contextlib.suppress(OSError):
            proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait
    proc.stdout.close()
    proc.stderr.close()
    box_usage = _reap_box_init(init_pid())
    outcome.stdout, outcome.stderr = bytes(buffers[out_fd]), bytes(buffers[err_fd])
    return _finish(outcome, status, box_usage or usage)


def _reap_box_init(pid: int | None):
    """Reap the box's pid 1, which was re-parented to us, and return its usage (or None).

    bwrap's monitor exits as soon as the program's exit code arrives, before its child (the
    box's pid 1, which reaped the program) is reaped. As a child subreaper we get that pid 1:
    reaping it here leaves no zombie behind (zombies would count against the pool user's process
    limit) and its usage covers the program and everything it started, unlike the monitor's,
    whose peak memory is the app's own, inherited through fork.
    """
    if pid is None:
        return None
    deadline = time.monotonic() + _GRACE_S
    try:
        while True:
            done, _, usage = os.wait4(pid, os.WNOHANG)
            if done:
                return usage
            if time.monotonic() > deadline:
                _kill(pid)
                return os.wait4(pid, 0)[2]
            time.sleep(0.0005)
    except ChildProcessError:  # not re-parented to us (no subreaper support): give up quietly
        return None


def _drain(fd: int, buf: bytearray, cap: int) -> str | None:
    """Read what is there: "eof", "overflow" (kept up to the cap) or None to keep reading."""
    try:
        data = os.read(fd, _CHUNK)
    except BlockingIOError:
        return None
    if not data:
        return "eof"
    room = cap - len(buf)
    buf += data[:room]
    return "overflow" if len(data) > room else None


def _finish(outcome: BoxOutcome, status: int, usage) -> BoxOutcome:
    outcome.cpu_s = usage.ru_utime + usage.ru_stime
    outcome.memory_kb = usage.ru_maxrss
    if os.WIFSIGNALED(status):
        outcome.signal = os.WTERMSIG(status)
    else:
        code = os.WEXITSTATUS(status)
        # bwrap reports a program killed by signal N as exit status 128 + N.
        if 128 < code < 128 + 65:
            outcome.signal = code - 128
        else:
            outcome.exit_code = code
    if (
        outcome.exit_code == 1
        and outcome.stderr.startswith(b"bwrap: ")
        and outcome.stdout == b""
        and b"\n" not in outcome.stderr.rstrip(b"\n")
    ):
        outcome.setup_error = outcome.stderr.decode("utf-8", "replace").strip()
    return outcome
