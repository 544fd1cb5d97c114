"""Long-lived box launchers: one small spawn server per pool uid, already in its memory cgroup.

Starting a box from the app costs two things besides bubblewrap itself: getting a confined
process without forking the large app (``spawn.spawn_gated`` execs setpriv, prlimit and a
shell), and moving it into the pool uid's memory cgroup, which waits for an RCU grace period on
cgroup v1 (about 10 ms, the largest single cost of a run). A launcher (``launcher_main``) pays
both once: it is a small standard-library Python process, moved into the uid's cgroup when it
starts, that spawns each box's bwrap from inside the cgroup with ``posix_spawn`` (a vfork and an
exec: about 0.1 ms, where even this small process's Python fork costs over a millisecond). A
spawned process is born in its parent's cgroup, so the box is confined from its first
instruction, exactly as with the gated spawn (and its cgroup namespace is rooted there); bwrap
holds the box before its program starts until the launcher has set its limits.

The launcher runs as root (it sets each run's limits; bwrap runs as the pool uid),
shields itself from the cgroup's OOM killer (the box is what gets killed), and kills its box
and exits as soon as this process's end of its socket closes: a dead worker leaves nothing
running. Launchers belong to the process that started them: a forked child (a Celery prefork
worker) forgets its parent's launchers and starts its own. ``LAB_SANDBOX_LAUNCHER=0`` turns
them off (boxes then use the gated spawn).
"""

from __future__ import annotations

import array
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading

from . import uidpool
from .supervise import BoxProcess

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "launcher_main.py")
ENABLED = os.geteuid() == 0 and os.environ.get("LAB_SANDBOX_LAUNCHER") != "0"
_ANSWER_TIMEOUT_S = 30.0  # it answers in milliseconds; a hung launcher is replaced
_MAX_MESSAGE = 1 << 16


class LauncherError(OSError):
    """The launcher could not be started, confined or reached."""


class Launcher:
    """The app's end of one launcher process (for one pool uid and one cgroup)."""

    def __init__(self, uid: int, cgroup_procs: str | None) -> None:
        self.uid = uid
        self.cgroup_procs = cgroup_procs
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock = ours
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", SCRIPT, str(theirs.fileno()), str(uid)],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env={},
                cwd="/",
                start_new_session=True,
            )
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        self.busy = False  # a box started and not yet reaped
        try:
            self._receive(_ANSWER_TIMEOUT_S)  # {"ready": pid}: its start-up is charged outside
            if cgroup_procs is not None:
                self._confine(cgroup_procs)
        except BaseException:
            self.close()
            raise

    def _confine(self, cgroup_procs: str) -> None:
        try:
            with open(cgroup_procs, "w") as fh:
                fh.write(str(self.proc.pid))
        except OSError as exc:
            raise LauncherError(
                f"could not move the box launcher into its memory cgroup: {exc}"
            ) from exc

    def _receive(self, timeout: float = _ANSWER_TIMEOUT_S) -> tuple[dict, list[int]]:
        if not select.select([self.sock], [], [], timeout)[0]:
            raise LauncherError("the box launcher did not answer")
        fds = array.array("i")
        data, ancdata, _, _ = self.sock.recvmsg(
            _MAX_MESSAGE, socket.CMSG_SPACE(fds.itemsize), socket.MSG_CMSG_CLOEXEC
        )
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
        if not data:
            raise LauncherError("the box launcher exited")
        return json.loads(data), list(fds)

    def start(self, argv: list[str], rlimits: list, fds: list[int]) -> LaunchedBox:
        """Have the launcher spawn bwrap with ``fds`` as its 0-4."""
        request = json.dumps(
            {
                "argv": argv,
                "rlimits": [[which, soft, hard] for which, (soft, hard) in rlimits],
            }
        ).encode()
        self.sock.sendmsg(
            [request], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
        )
        self.busy = True  # until its "done" is read: otherwise the next answer would be stale
        answer, received = self._receive()
        if "error" in answer:
            self.busy = False
            raise LauncherError(answer["error"])
        return LaunchedBox(self, answer["started"], received[0])

    def close(self) -> None:
        """End the launcher (it kills a running box) and reap it."""
        self.sock.close()
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            self.proc.wait(timeout=5)
        if self.proc.returncode is None:
            self.proc.kill()
            self.proc.wait()


class LaunchedBox(BoxProcess):
    """A bwrap monitor started by a launcher: killed through a pidfd, reaped by the launcher."""

    def __init__(self, launcher: Launcher, pid: int, pidfd: int) -> None:
        self.launcher = launcher
        self.pid = pid
        self._pidfd = pidfd

    def exit_fd(self) -> int:
        """The launcher's socket: its "done" answer says the box has exited."""
        # The launcher's "done" message, not the pidfd: it comes once pid 1 is reaped too.
        return self.launcher.sock.fileno()

    def kill(self) -> None:
        """SIGKILL bwrap's monitor through its pidfd."""
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)  # never a reused pid

    def reap(self, init_pid: int | None) -> tuple[int, float, int]:
        """The launcher's "done": wait status and usage (it reaped the monitor and pid 1)."""
        try:
            answer, _ = self.launcher._receive()
        finally:
            os.close(self._pidfd)
        self.launcher.busy = False
        if "error" in answer:  # it could not be confined, so it was killed before it ran
            raise LauncherError(answer["error"])
        cpu_s, maxrss = answer["usage"]
        return answer["done"], cpu_s, maxrss


_lock = threading.Lock()
_launchers: dict[int, Launcher] = {}


def _forget_after_fork() -> None:
    """In a forked child: the parent's launchers are not ours. Closing the child's copies of
    their sockets leaves the parent's ends (and so the launchers) as they are."""
    global _lock
    _lock = threading.Lock()  # another thread may have held it at the fork
    for launcher in _launchers.values():
        launcher.sock.close()
    _launchers.clear()


os.register_at_fork(after_in_child=_forget_after_fork)


def for_uid(uid: int, cgroup_procs: str | None) -> Launcher:
    """The launcher for a leased uid (started, and confined to ``cgroup_procs``, on first use).

    The caller holds the uid's lease, so no other thread uses this launcher meanwhile. A
    launcher confined elsewhere (the cgroups were switched off or on), gone, or left with an
    unread answer (its run was abandoned midway) is replaced.
    """
    with _lock:
        launcher = _launchers.get(uid)
        if launcher is not None:
            usable = not launcher.busy and launcher.proc.poll() is None
            if usable and launcher.cgroup_procs == cgroup_procs:
                return launcher
            del _launchers[uid]
    if launcher is not None:
        launcher.close()
    fresh = Launcher(uid, cgroup_procs)
    with _lock:
        _launchers[uid] = fresh
    return fresh


def discard(uid: int) -> None:
    """Stop a uid's launcher (after it failed): the next run starts a fresh one.

    The caller holds the uid's lease, so whatever still runs as that uid belongs to the failed
    launcher's box (e.g. one it had started just before it was killed): it is killed too.
    """
    with _lock:
        launcher = _launchers.pop(uid, None)
    if launcher is not None:
        launcher.close()
    uidpool.kill_processes_of(uid)


def warm_uids() -> list[int]:
    """The uids this process has a launcher for (leased first, so launchers are reused)."""
    with _lock:
        return list(_launchers)


def stop_all() -> None:
    """Stop every launcher of this process (tests, benchmarks, shutdown)."""
    with _lock:
        launchers = list(_launchers.values())
        _launchers.clear()
    for launcher in launchers:
        launcher.close()
