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


class BoxProcess:
    """A started box (bwrap's monitor) as the supervisor sees it: its pid and our ends of its
    standard streams; subclasses say how to learn that it exited, kill it and reap it."""

    pid: int

    def exit_fd(self) -> int:
        """A descriptor that becomes readable once the box has exited."""
        raise NotImplementedError

    def kill(self) -> None:
        """SIGKILL bwrap's monitor (the box follows it: --die-with-parent)."""
        raise NotImplementedError

    def reap(self, init_pid: int | None) -> tuple[int, float, int]:
        """Wait for the monitor and the box's pid 1: (wait status, CPU seconds, peak KB)."""
        raise NotImplementedError


class ChildBox(BoxProcess):
    """A monitor that is this process's own child (the gated and forked spawns)."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.pid = proc.pid
        self._pidfd = os.pidfd_open(proc.pid)

    def exit_fd(self) -> int:
        return self._pidfd

    def kill(self) -> None:
        _kill(self.pid)  # our unreaped child: the pid cannot have been reused

    def reap(self, init_pid: int | None) -> tuple[int, float, int]:
        os.close(self._pidfd)
        _, status, usage = os.wait4(self.pid, 0)
        self.proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: not by Popen
        usage = _reap_box_init(init_pid) or usage
        return status, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def _kill_program(init: int | None, box: BoxProcess, uid: int | None) -> None:
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
        box.kill()


@dataclass
class Stdio:
    """Our ends of a box's standard streams (pipes), closed by the supervisor."""

    stdin: int
    stdout: int
    stderr: int

    def close_stdin(self) -> None:
        """Close our end of the box's stdin (once: the number may be reused right after)."""
        if self.stdin >= 0:
            fd, self.stdin = self.stdin, -1
            with contextlib.suppress(OSError):
                os.close(fd)

    def close(self) -> None:
        """Close our ends of all three streams."""
        self.close_stdin()
        for fd in (self.stdout, self.stderr):
            with contextlib.suppress(OSError):
                os.close(fd)


class _Watch:
    """One box's supervision: its streams, its limits, and who has been killed."""

    def __init__(self, box, stdio, stdin, deadline, cap, info_fd, uid) -> None:
        self.box, self.stdio, self.cap, self.info_fd, self.uid = box, stdio, cap, info_fd, uid
        self.outcome = BoxOutcome()
        self.buffers = {stdio.stdout: bytearray(), stdio.stderr: bytearray()}
        self.pending = memoryview(stdin)
        self.kill_deadline = deadline
        self.exited = self.killed = False
        self._init: list[int | None] = []
        self.sel = selectors.DefaultSelector()
        for fd in self.buffers:
            os.set_blocking(fd, False)
            self.sel.register(fd, selectors.EVENT_READ)
        self.sel.register(box.exit_fd(), selectors.EVENT_READ)
        if self.pending:
            os.set_blocking(stdio.stdin, False)
            self.sel.register(stdio.stdin, selectors.EVENT_WRITE)
        else:
            self.stdio.close_stdin()

    def init_pid(self) -> int | None:
        """The box's pid 1, from bwrap's info descriptor (read once, when needed)."""
        if not self._init:
            self._init.append(_read_child_pid(self.info_fd))
        return self._init[0]

    def kill_box(self) -> None:
        if not self.killed:
            self.killed = True
            self.kill_deadline = time.monotonic() + _GRACE_S
            _kill_program(self.init_pid(), self.box, self.uid)

    def done(self) -> bool:
        registered = self.sel.get_map()
        return (
            self.exited
            and self.stdio.stdout not in registered
            and (self.stdio.stderr not in registered)
        )

    def step(self) -> bool:
        """Wait for one round of events; False when the box must be abandoned."""
        now = time.monotonic()
        if now >= self.kill_deadline:
            if self.killed:
                self.box.kill()  # the box did not go quietly: take its monitor down
                return False
            self.outcome.timed_out = True
            self.kill_box()
            return True
        for key, _ in self.sel.select(self.kill_deadline - now):
            if key.fd == self.stdio.stdin:
                self._feed()
            elif key.fd in self.buffers:
                state = _drain(key.fd, self.buffers[key.fd], self.cap)
                if state is not None:
                    self.sel.unregister(key.fd)
                if state == "overflow":
                    self.outcome.overflow = True
                    self.kill_box()
            else:
                self.exited = True
                self.sel.unregister(key.fd)
        return True

    def _feed(self) -> None:
        try:
            self.pending = self.pending[os.write(self.stdio.stdin, self.pending[:_CHUNK]) :]
        except BlockingIOError:
            return
        except OSError:  # the program closed its stdin or exited: fine
            self.pending = self.pending[:0]
        if not self.pending:
            self.sel.unregister(self.stdio.stdin)
            self.stdio.close_stdin()


def _supervise(
    box: BoxProcess,
    stdio: Stdio,
    stdin: bytes,
    deadline: float,
    cap: int,
    info_fd: int,
    uid,
) -> BoxOutcome:
    """Feed, read and time the box until it exits (or is killed), then reap it."""
    watch = _Watch(box, stdio, stdin, deadline, cap, info_fd, uid)
    try:
        while not watch.done() and watch.step():
            pass
    finally:
        watch.sel.close()
        stdio.close()
    status, cpu_s, memory_kb = box.reap(watch.init_pid())
    outcome = watch.outcome
    outcome.stdout = bytes(watch.buffers[stdio.stdout])
    outcome.stderr = bytes(watch.buffers[stdio.stderr])
    outcome.cpu_s, outcome.memory_kb = cpu_s, memory_kb
    return _finish(outcome, status)


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


def _finish(outcome: BoxOutcome, status: int) -> BoxOutcome:
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
