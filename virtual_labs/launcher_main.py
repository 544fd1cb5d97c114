"""The box launcher process: a tiny fork server that starts bwrap boxes for one pool uid.

Run by ``launcher.Launcher`` as ``python -I -S launcher_main.py FD UID`` (standard library only, so
it starts in a few milliseconds and stays small). The app moves it into the pool uid's memory
cgroup once; every box it forks is then created inside that cgroup, which spares each run the
cgroup move (an RCU grace period on cgroup v1) and the fork of the large app process.

Protocol, on the SOCK_SEQPACKET socket ``FD`` (one message per packet):
- it sends ``{"ready": pid}`` once;
- the app sends ``{"argv", "rlimits"}`` with the box's descriptors (stdin, stdout,
  stderr, info fd, and the seccomp program when there is one) as SCM_RIGHTS; the launcher forks
  a child that puts them at 0-4, arms the parent-death signal, sets the limits, drops to the
  pool uid and execs bwrap; it answers ``{"started": pid}`` with a pidfd of bwrap's monitor (so
  the app can kill it without a pid race), or ``{"error": message}``;
- when the monitor has exited and the box's pid 1 (re-parented here: it is a child subreaper)
  has been reaped, it sends ``{"done": wait status, "usage": [cpu s, max rss kb]}``.
It runs one box at a time (the pool uid is leased to one run). When the app's end of the
socket closes (the app exited or died), it kills the running box and exits: no box outlives
its supervisor.
"""

import contextlib
import ctypes
import fcntl
import json
import os
import resource
import select
import signal
import socket
import sys

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_GRACE_S = 1.0
_MAX_MESSAGE = 1 << 20
_FD_BASE = 100  # received descriptors are first moved here, clear of 0-4


def _libc():
    return ctypes.CDLL("libc.so.6", use_errno=True)


def _child(request: dict, fds: list[int], uid: int, parent: int, libc, error_w: int) -> None:
    """In the forked child: place the descriptors, confine, exec bwrap (never returns)."""
    try:
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write("1000")  # in the cgroup the box, never the launcher, is the OOM killer's pick
        error_w = _dup_high(error_w)  # clear of 0-4 as well, before they are replaced
        for target, fd in enumerate([_dup_high(fd) for fd in fds]):
            os.dup2(fd, target)  # dup2 clears close-on-exec on the target
        os.setsid()
        for number in (signal.SIGPIPE, signal.SIGXFSZ):  # Python ignores them; exec keeps that
            signal.signal(number, signal.SIG_DFL)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)
        for which, soft, hard in request["rlimits"]:
            resource.setrlimit(which, (soft, hard))
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        os.chdir("/")
        argv = request["argv"]
        os.execve(argv[0], argv, {})
    except BaseException as exc:  # noqa: BLE001 - anything here is reported, then the child dies
        try:
            os.write(error_w, f"could not start bwrap: {exc}".encode()[:4000])
        finally:
            os._exit(127)


def _dup_high(fd: int) -> int:
    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _FD_BASE)


def _spawn(request: dict, fds: list[int], uid: int, libc) -> tuple[int, str | None]:
    error_r, error_w = os.pipe2(os.O_CLOEXEC)
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        os.close(error_r)
        _child(request, fds, uid, parent, libc, error_w)
    os.close(error_w)
    with os.fdopen(error_r, "rb") as fh:
        error = fh.read().decode("utf-8", "replace")  # empty once exec succeeded
    if error:
        os.waitpid(pid, 0)
        return pid, error
    return pid, None


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


def serve(sock: socket.socket, uid: int) -> None:
    """Start boxes on request until the app's end of the socket closes."""
    libc = _libc()
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1)
    with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as fh:
        fh.write("-1000")  # needs CAP_SYS_RESOURCE; the box's own 1000 suffices without it
    sock.send(json.dumps({"ready": os.getpid()}).encode())
    running: int | None = None
    pidfd: int | None = None
    while True:
        waiting = [sock] if pidfd is None else [sock, pidfd]
        readable = select.select(waiting, [], [])[0]
        if sock in readable:
            data, ancdata, _, _ = sock.recvmsg(
                _MAX_MESSAGE, socket.CMSG_SPACE(4 * 8), socket.MSG_CMSG_CLOEXEC
            )
            if not data:
                _kill(running)
                return
            fds = []
            for level, kind, payload in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    usable = len(payload) - len(payload) % 4
                    fds += list(memoryview(payload[:usable]).cast("i"))
            try:
                if running is not None:  # one box at a time: the app never asks for two
                    pid, error = None, "the box launcher is busy"
                else:
                    pid, error = _spawn(json.loads(data), fds, uid, libc)
            finally:
                for fd in fds:
                    os.close(fd)
            if error:
                sock.send(json.dumps({"error": error}).encode())
                continue
            running, pidfd = pid, os.pidfd_open(pid)
            rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, pidfd.to_bytes(4, sys.byteorder))]
            sock.sendmsg([json.dumps({"started": pid}).encode()], rights)
        elif pidfd is not None and pidfd in readable:
            _, status, usage = os.wait4(running, 0)
            os.close(pidfd)
            running = pidfd = None
            usage = _reap_orphans() or usage
            figures = [usage.ru_utime + usage.ru_stime, usage.ru_maxrss]
            sock.send(json.dumps({"done": status, "usage": figures}).encode())


def main(argv: list[str]) -> None:
    """``launcher_main.py FD UID``: serve on socket FD, starting boxes as pool user UID."""
    fd, uid = int(argv[1]), int(argv[2])
    if uid <= 0:
        raise SystemExit("a box launcher serves an unprivileged pool uid")
    os.set_inheritable(fd, False)  # a box must never hold the launcher's socket
    serve(socket.socket(fileno=fd), uid)


if __name__ == "__main__":
    main(sys.argv)
