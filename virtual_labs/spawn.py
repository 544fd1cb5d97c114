"""Starting a box's bwrap confined: as its pool user, with its limits, inside its memory cgroup.

Three ways, fastest first (``box.run_box`` picks one):
- ``spawn_launched``: the uid's long-lived launcher (see ``launcher``), already inside the
  cgroup, spawns bwrap; no cgroup move and no fork of the app per run. Used as root with the pool.
- ``spawn_gated``: vfork + exec of setpriv, prlimit and a shell that waits for a go-ahead while
  this process moves it into the cgroup.
- ``spawn_forked``: the fallback: fork the app and confine the child in a ``preexec_fn``.
Each returns a started ``BoxProcess`` and an error message (or None), and closes the child's
ends of the descriptors it was given, whatever happens.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import math
import os
import resource
import shutil
import signal
import subprocess

from . import launcher
from .supervise import BoxProcess, ChildBox, Stdio, _kill

PRLIMIT = shutil.which("prlimit", path="/usr/bin:/bin") or "/usr/bin/prlimit"
# The launcher of the gated spawn (see ``spawn_gated``): util-linux's setpriv and a POSIX shell.
SETPRIV = shutil.which("setpriv", path="/usr/bin:/bin")
SHELL = shutil.which("dash", path="/usr/bin:/bin") or shutil.which("sh", path="/usr/bin:/bin")
# The last link of the launcher ($0 is the worker's pid): wait for the go-ahead, then exec bwrap
# only while the worker is still our parent. The shell would export its own PWD: unset, so
# bwrap (and the box's pid 1) start with an empty environment.
_LAUNCH = 'read -r _ && [ "$PPID" = "$0" ] || exit 125; unset PWD; exec "$@"'
FAST_SPAWN = (
    bool(SETPRIV and SHELL and os.path.exists(PRLIMIT))
    and os.environ.get("LAB_SANDBOX_GATED_SPAWN") != "0"
)
_PRLIMIT_OPTIONS = {
    resource.RLIMIT_CPU: "cpu",
    resource.RLIMIT_AS: "as",
    resource.RLIMIT_FSIZE: "fsize",
    resource.RLIMIT_NOFILE: "nofile",
    resource.RLIMIT_CORE: "core",
    resource.RLIMIT_STACK: "stack",
    resource.RLIMIT_NPROC: "nproc",
}
# The environment bwrap itself starts with (also what the box's /proc/1/environ shows).
_BWRAP_ENV: dict[str, str] = {}
_PR_SET_PDEATHSIG = 1
# The descriptor numbers a launched box's bwrap sees: stdin, stdout, stderr, info, seccomp.
LAUNCHED_INFO_FD = 3
LAUNCHED_SECCOMP_FD = 4


def _load_libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


LIBC = _load_libc()


def rlimits(
    limits, address_space_extra_mb: int, pooled: bool, launched: bool = False
) -> list[tuple[int, tuple]]:
    """The resource limits of a box's processes (the box's pid 1 and below; and bwrap's
    monitor too, except for a launched box, whose launcher sets them on pid 1 alone)."""
    mb = 1024 * 1024
    cpu = max(1, math.ceil(limits.cpu_s))
    memory = (limits.memory_mb + address_space_extra_mb) * mb
    settings = [
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_AS, (memory, memory)),
        (resource.RLIMIT_FSIZE, (limits.file_kb * 1024,) * 2),
        (resource.RLIMIT_NOFILE, (limits.open_files,) * 2),
        (resource.RLIMIT_CORE, (0, 0)),
        (resource.RLIMIT_STACK, (min(64, limits.memory_mb) * mb,) * 2),
    ]
    if pooled:
        # The box's uid is its own: + 1 for the box's pid 1, + 1 for bwrap's monitor where
        # it carries the limit too (its process is then counted at the box's level).
        nproc = limits.procs + (1 if launched else 2)
        settings.append((resource.RLIMIT_NPROC, (nproc, nproc)))
    return settings


def _preexec(limits: list[tuple[int, tuple]], cgroup_procs: str | None = None):
    """A preexec function: runs in the forked child after setuid, right before exec(bwrap)."""
    parent = os.getpid()

    def setup() -> None:
        """Cgroup, limits and the parent-death signal, in the child before exec."""
        if cgroup_procs is not None:
            # Into the pool user's memory cgroup (its cgroup.procs belongs to that user).
            with contextlib.suppress(OSError), open(cgroup_procs, "w") as fh:
                fh.write("0")
        for which, value in limits:
            resource.setrlimit(which, value)
        if LIBC is not None:
            # Kill bwrap (and so the box) if this worker dies mid-run.
            LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != parent:
                os._exit(1)

    return setup


def _popen(argv: list[str], pass_fds: list[int], child_stdio: tuple, **extra) -> subprocess.Popen:
    stdin, stdout, stderr = child_stdio
    return subprocess.Popen(
        argv,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        pass_fds=pass_fds,
        env=_BWRAP_ENV,
        cwd="/",
        start_new_session=True,
        **extra,
    )


def _close(fds) -> None:
    for fd in fds:
        if fd is not None:
            os.close(fd)


def spawn_forked(argv, pass_fds, child_stdio, limits, uid, cgroup, stdio: Stdio):
    """Fallback: fork, and set user, limits and cgroup in the child before exec(bwrap).

    A Python ``preexec_fn`` (or ``user=``) makes ``subprocess`` fork instead of vfork: the page
    tables of the whole app are copied for every box (5-15 ms in a web or worker process).
    """
    extra = {"user": uid, "group": uid, "extra_groups": []} if uid is not None else {}
    try:
        preexec = _preexec(limits, cgroup.procs if cgroup else None)
        proc = _popen(argv, pass_fds, child_stdio, preexec_fn=preexec, **extra)
    finally:
        _close([*pass_fds, *child_stdio])
    return ChildBox(proc), None


def spawn_gated(argv, pass_fds, child_stdio, limits, uid, cgroup, stdio: Stdio):
    """Start bwrap without forking the app: vfork + exec, and confine it before it starts.

    The launcher is a chain of small execs in one process: ``setpriv`` switches to the pool
    user and arms the parent-death signal; ``prlimit`` sets the resource limits (inherited by
    everything after it); a POSIX shell waits for a go-ahead line on its stdin, checks that
    its parent is still this process (had the worker died before the signal was armed, the box
    must not start unsupervised) and execs bwrap. Meanwhile this process moves that single
    process into the pool user's memory cgroup and only then writes the go-ahead: bwrap and
    the box are created inside the cgroup (and its cgroup namespace is rooted there), exactly
    as with the forked fallback. If the move fails the process is killed before the go-ahead,
    so a box never runs outside its cgroup. The shell reads its line byte by byte, so the
    program's own input that follows is left intact.
    """
    chain = [SETPRIV]
    if uid is not None:
        chain += [f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    chain += ["--pdeathsig=KILL", "--", PRLIMIT]
    chain += [f"--{_PRLIMIT_OPTIONS[which]}={soft}:{hard}" for which, (soft, hard) in limits]
    chain += ["--", SHELL, "-c", _LAUNCH, str(os.getpid())]
    try:
        if not os.access(argv[0], os.X_OK):  # the shell would only report a program error
            raise FileNotFoundError(errno.ENOENT, "not found", argv[0])
        proc = _popen([*chain, *argv], pass_fds, child_stdio)
    finally:
        _close([*pass_fds, *child_stdio])
    error = None
    try:
        if cgroup is not None:
            error = _confine(proc.pid, cgroup)
        if error:
            _kill(proc.pid)  # before the go-ahead: it never runs unconfined
        else:
            with contextlib.suppress(OSError):  # the launcher is already gone
                os.write(stdio.stdin, b"go\n")
    except BaseException:
        _kill(proc.pid)
        raise
    return ChildBox(proc), error


def spawn_launched(argv, pass_fds, child_stdio, limits, uid, cgroup, stdio: Stdio):
    """Have the uid's launcher, already in the cgroup, spawn bwrap (see ``launcher``).

    ``argv`` was built for the descriptor numbers the launched bwrap sees (3 and 4). A launcher
    that cannot be confined refuses to start the box, so it never runs outside its cgroup.
    """
    procs = cgroup.procs if cgroup is not None else None
    try:
        if not os.access(argv[0], os.X_OK):
            raise FileNotFoundError(errno.ENOENT, "not found", argv[0])
        try:
            server = launcher.for_uid(uid, procs)
        except launcher.LauncherError as exc:
            return None, str(exc)
        try:
            box: BoxProcess = server.start(argv, limits, [*child_stdio, *pass_fds])
        except OSError:
            launcher.discard(uid)  # a broken launcher: the next run starts a fresh one
            raise
    finally:
        _close([*pass_fds, *child_stdio])
    return box, None


def _confine(pid: int, cgroup) -> str | None:
    """Move the box's launcher into its memory cgroup; an error message, or None."""
    try:
        with open(cgroup.procs, "w") as fh:
            fh.write(str(pid))
    except ProcessLookupError:
        return None  # the launcher is already gone: its exit status tells
    except OSError as exc:
        return f"could not move the box into its memory cgroup: {exc}"
    return None
