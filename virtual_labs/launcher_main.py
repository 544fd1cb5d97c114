"""The box launcher process: a tiny spawn server that starts bwrap boxes for one pool uid.

Run by ``launcher.Launcher`` as ``python -I -S launcher_main.py FD UID`` (standard library only, so
it starts in a few milliseconds and stays small). The app moves it into the pool uid's memory
cgroup once; every box it spawns is then created inside that cgroup, which spares each run the
cgroup move (an RCU grace period on cgroup v1) and the fork of the large app process.

Protocol, on the SOCK_SEQPACKET socket ``FD`` (one message per packet):
- it sends ``{"ready": pid}`` once;
- the app sends ``{"argv", "rlimits"}`` with the box's descriptors (stdin, stdout,
  stderr, info fd, and the seccomp program when there is one) as SCM_RIGHTS; the launcher
  starts bwrap with ``posix_spawn`` as the pool uid, with them at 0-4 (see ``_spawn``), and
  answers ``{"started": pid}`` with a pidfd of bwrap's monitor (so the app can kill it without
  a pid race), or ``{"error": message}``. bwrap holds the box at ``--block-fd`` until the
  launcher has set the limits and the OOM priority on the box's pid 1 (``_Gate``); a box
  that cannot be confined is killed there, before the program starts;
- when the monitor has exited and the box's pid 1 (re-parented here: it is a child subreaper)
  has been reaped, it sends ``{"done": wait status, "usage": [cpu s, max rss kb]}``, with
  ``"error"`` when the box could not be confined.
It runs one box at a time (the pool uid is leased to one run). When the app's end of the
socket closes (the app exited or died), it kills the running box, reaps it and exits: no box
outlives its supervisor. The order matters: bwrap takes the closing of its block pipe (EOF) as
a go-ahead, and the box's pid 1 is tied to bwrap's monitor (``--die-with-parent``) only once
it has passed the gate; a box held there is killed and reaped before the pipe closes. A
launcher itself killed while its box is held cannot do that: the app, which holds the uid's
lease, then kills every process of the uid (``launcher.discard``).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import re
import resource
import select
import signal
import socket
import sys

_PR_SET_CHILD_SUBREAPER = 36
_GRACE_S = 1.0
_MAX_MESSAGE = 1 << 20
_FD_BASE = 100  # received descriptors are first moved here, clear of 0-6
_BLOCK_FD = 5  # bwrap's --block-fd and --json-status-fd, after the box's 0-4
_STATUS_FD = 6


def _libc():
    return ctypes.CDLL("libc.so.6", use_errno=True)


def _spawn(request: dict, fds: list[int], uid: int) -> tuple[int, _Gate]:
    """Start bwrap as the pool uid with ``fds`` at 0-4, held at its block descriptor.

    ``posix_spawn`` (a vfork and an exec, no Python in the child: a Python fork of even this
    small process costs a millisecond in page-table copies and copy-on-write faults) sets the
    session, the default SIGPIPE and SIGXFSZ actions and the descriptors. For the uid the
    launcher takes the pool uid as its real ids just around the call, and the child's
    "reset ids" makes them its effective ids before the exec: bwrap runs as the pool user with
    no capability and no supplementary group. The limits and the OOM priority cannot be set
    that way: the returned gate sets them on the box's pid 1 before it goes on.
    """
    high = [_dup_high(fd) for fd in fds]  # clear of 0-6, the numbers they are placed at
    block_r, block_w = os.pipe2(os.O_CLOEXEC)
    status_r, status_w = os.pipe2(os.O_CLOEXEC)
    argv = request["argv"]
    argv = [argv[0], "--block-fd", str(_BLOCK_FD), "--json-status-fd", str(_STATUS_FD), *argv[1:]]
    actions = [(os.POSIX_SPAWN_DUP2, fd, target) for target, fd in enumerate(high)]
    actions += [
        (os.POSIX_SPAWN_DUP2, block_r, _BLOCK_FD),
        (os.POSIX_SPAWN_DUP2, status_w, _STATUS_FD),
    ]
    gate = _Gate(block_w, status_r, request["rlimits"], uid)
    try:
        with _as_pool_user(uid):
            pid = os.posix_spawn(
                argv[0], argv, {}, file_actions=actions, setsid=True, resetids=True,
                setsigdef=(signal.SIGPIPE, signal.SIGXFSZ),
            )  # fmt: skip
    except BaseException:
        gate.close()
        raise
    finally:
        for fd in (*high, block_r, status_w):
            os.close(fd)
    gate.monitor = pid
    return pid, gate


@contextlib.contextmanager
def _as_pool_user(uid: int):
    """Real ids of the pool user, effective ids still root's, for the time of the block.

    What a spawned child's "reset ids" turns into its effective ids; and what lets this process
    set another's limits without CAP_SYS_RESOURCE (which containers often withhold): the
    caller's real ids must be the target's. Only for the moment: the real uid is what the
    pool user's process count is charged to.
    """
    os.setresgid(uid, 0, 0)
    os.setresuid(uid, 0, 0)
    try:
        yield
    finally:
        os.setresuid(0, 0, 0)
        os.setresgid(0, 0, 0)


class _Gate:
    """bwrap's box, held at ``--block-fd`` until its pid 1 has its limits and OOM priority.

    bwrap reports the pid of the box's pid 1 (``--json-status-fd``) as soon as it has cloned
    it; that process then sets up the mounts and blocks, before seccomp and before it starts
    the program, until one byte arrives. Everything the program and its children ever run is
    forked from it, so they inherit the limits set on it here.
    """

    def __init__(self, block_w: int, status_r: int, rlimits: list, uid: int) -> None:
        self.uid = uid
        self.block_w: int | None = block_w
        self.status_r = status_r
        self.rlimits = rlimits
        self.monitor: int | None = None
        self.status = b""

    def release(self) -> str | None:
        """Confine the box's pid 1 and let it go on; an error message (the box never runs)."""
        try:
            init = self._init_pid()
        except TimeoutError:
            return "could not confine the box: bwrap did not report its pid 1"
        if init is None:
            return None  # bwrap failed before it made the box: its exit status tells
        try:
            pidfd = os.pidfd_open(init)
        except OSError as exc:
            return f"could not confine the box: {exc}"
        try:
            with open(f"/proc/{init}/stat") as fh:
                if int(fh.read().rsplit(")", 1)[1].split()[1]) != self.monitor:
                    return "could not confine the box: its pid 1 is gone"
            with _as_pool_user(self.uid):  # the prlimit rule without CAP_SYS_RESOURCE
                for which, soft, hard in self.rlimits:
                    resource.prlimit(init, which, (soft, hard))
            with open(f"/proc/{init}/oom_score_adj", "w") as fh:
                fh.write("1000")  # in the cgroup the box, never the launcher, is the OOM pick
            if select.select([pidfd], [], [], 0)[0]:  # gone meanwhile: the pid may be reused
                return "could not confine the box: its pid 1 is gone"
            os.write(self.block_w, b"1")
        except (OSError, ValueError, IndexError) as exc:
            return f"could not confine the box: {exc}"
        finally:
            os.close(pidfd)
        return None

    def _init_pid(self) -> int | None:
        """The box's pid 1 from bwrap's status; None once bwrap exited without a box."""
        while b"child-pid" not in self.status or not self.status.rstrip().endswith(b"}"):
            if not select.select([self.status_r], [], [], _GRACE_S * 10)[0]:
                raise TimeoutError  # still held: to be killed, never left at its gate
            chunk = os.read(self.status_r, 4096)
            if not chunk:
                return None
            self.status += chunk
        match = re.search(rb'"child-pid"\s*:\s*(\d+)', self.status)
        return int(match.group(1)) if match else None

    def close(self) -> None:
        """Close our ends (a box never released gets EOF only after its monitor was killed)."""
        for name in ("block_w", "status_r"):
            fd = getattr(self, name)
            if fd is not None:
                setattr(self, name, None)
                os.close(fd)


def _dup_high(fd: int) -> int:
    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _FD_BASE)


def _reap_orphans() -> tuple | None:
    """Reap the box's pid 1 (re-parented to this subreaper when the monitor exited)."""
    usage = None
    try:
        with open(f"/proc/self/task/{os.getpid()}/children") as fh:
            orphans = [int(pid) for pid in fh.read().split()]
    except OSError:
        orphans = []
    for pid in orphans:
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            continue
        try:
            if not select.select([pidfd], [], [], _GRACE_S)[0]:
                os.kill(pid, signal.SIGKILL)
            usage = os.wait4(pid, 0)[2]
        except ChildProcessError:
            pass
        finally:
            os.close(pidfd)
    return usage


def _kill(pid: int | None) -> None:
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _receive(sock: socket.socket) -> tuple[bytes, list[int]]:
    """One request and the descriptors that came with it (empty: the app's end closed)."""
    data, ancdata, _, _ = sock.recvmsg(
        _MAX_MESSAGE, socket.CMSG_SPACE(4 * 8), socket.MSG_CMSG_CLOEXEC
    )
    fds = []
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(payload) - len(payload) % 4
            fds += list(memoryview(payload[:usable]).cast("i"))
    return data, fds


def _prepare() -> None:
    """The launcher's own settings, once: subreaper, OOM shield, no supplementary groups."""
    _libc().prctl(_PR_SET_CHILD_SUBREAPER, 1)
    with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as fh:
        fh.write("-1000")  # needs CAP_SYS_RESOURCE; the box's own 1000 suffices without it
    os.setgroups([])  # what a box's bwrap inherits (its ids are the pool uid's: see _spawn)


class _Running:
    """The box being run: bwrap's monitor (our child), a pidfd on it, and the box's gate."""

    def __init__(self, pid: int, gate: _Gate) -> None:
        self.pid = pid
        self.gate = gate
        self.pidfd = -1  # opened by ``announce_and_release``
        self.failure: str | None = None

    def finish(self) -> dict:
        """Reap the monitor and the box's pid 1, then close the gate: the "done" answer."""
        _, status, usage = os.wait4(self.pid, 0)
        if self.pidfd >= 0:
            os.close(self.pidfd)
        usage = _reap_orphans() or usage
        self.gate.close()  # after the reaping: a box still held at its gate must never go on
        answer = {"done": status, "usage": [usage.ru_utime + usage.ru_stime, usage.ru_maxrss]}
        if self.failure:
            answer["error"] = self.failure
        return answer

    def announce_and_release(self, sock: socket.socket) -> None:
        """Answer "started" with a pidfd, then confine the box's pid 1 and let it go on."""
        self.pidfd = os.pidfd_open(self.pid)
        rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, self.pidfd.to_bytes(4, sys.byteorder))]
        sock.sendmsg([json.dumps({"started": self.pid}).encode()], rights)
        self.failure = self.gate.release()
        if self.failure:
            # Not released: killed first, and its gate closed only once it is reaped.
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)


def _start(sock: socket.socket, data: bytes, fds: list[int], uid: int) -> _Running | None:
    """Start the requested box, held at its gate (None: refused, with the error sent)."""
    try:
        pid, gate = _spawn(json.loads(data), fds, uid)
    except OSError as exc:
        sock.send(json.dumps({"error": f"could not start bwrap: {exc}"}).encode())
        return None
    finally:
        for fd in fds:
            os.close(fd)
    return _Running(pid, gate)


def serve(sock: socket.socket, uid: int) -> None:
    """Start boxes on request until the app's end of the socket closes."""
    _prepare()
    sock.send(json.dumps({"ready": os.getpid()}).encode())
    running: _Running | None = None
    try:
        while True:
            waiting = [sock] if running is None else [sock, running.pidfd]
            readable = select.select(waiting, [], [])[0]
            if sock in readable:
                data, fds = _receive(sock)
                if not data:
                    return
                if running is not None:  # one box at a time: the app never asks for two
                    for fd in fds:
                        os.close(fd)
                    sock.send(json.dumps({"error": "the box launcher is busy"}).encode())
                    continue
                running = _start(sock, data, fds, uid)
                if running is not None:
                    running.announce_and_release(sock)
            elif running is not None and running.pidfd in readable:
                answer, running = running.finish(), None
                sock.send(json.dumps(answer).encode())
    finally:
        # However this ends (the app gone, even before it read "started"): bwrap takes the
        # closing of its block pipe as a go-ahead, so a box still held there is killed and
        # reaped before this process, and with it the pipe, goes.
        if running is not None:
            _kill(running.pid)
            running.finish()


def main(argv: list[str]) -> None:
    """``launcher_main.py FD UID``: serve on socket FD, starting boxes as pool user UID."""
    fd, uid = int(argv[1]), int(argv[2])
    if uid <= 0:
        raise SystemExit("a box launcher serves an unprivileged pool uid")
    os.set_inheritable(fd, False)  # a box must never hold the launcher's socket
    serve(socket.socket(fileno=fd), uid)


if __name__ == "__main__":
    main(sys.argv)
