"""One bubblewrap box: build its command line and start it as a pool user, confined.

This is the low-level half of the sandbox (``sandbox.py`` is the API). A box sees only ``/usr``
(and the few read-only files its language needs), a fresh ``/proc``, a read-only minimal
``/dev``, a fresh size-limited tmpfs for ``/tmp`` and ``/box`` (its work directory), and a
read-only root. Every namespace is unshared (no network at all: a new net namespace holds only a
loopback), capabilities are dropped, the environment is cleared, user namespaces cannot be
nested, a seccomp filter refuses ptrace and a few kernel interfaces (see ``seccomp``), and
resource limits are set before ``bwrap`` is exec'd, so they bind the whole tree.

``supervise`` watches the running box: input, output, the wall and output limits, and the
reaping (nothing outlives a run, not even a double-forked daemon).
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
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace

from . import cgroups, seccomp
from .supervise import BoxOutcome, _kill, _supervise

__all__ = ["BoxOutcome", "Limits", "build_argv", "run_box", "set_owner", "scratch_bytes"]

BWRAP = os.environ.get("LAB_BWRAP") or shutil.which("bwrap") or "/usr/bin/bwrap"
PRLIMIT = shutil.which("prlimit", path="/usr/bin:/bin") or "/usr/bin/prlimit"
BOX = "/box"
BOX_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp"}
# The environment bwrap itself starts with (also what the box's /proc/1/environ shows).
_BWRAP_ENV: dict[str, str] = {}
_PR_SET_PDEATHSIG = 1

# The launcher of the gated spawn (see ``_spawn_gated``): util-linux's setpriv and a POSIX shell.
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


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run (CPU and wall seconds, MB, processes, KB)."""

    cpu_s: float = 2.0
    wall_s: float = 5.0
    memory_mb: int = 256
    procs: int = 16
    output_kb: int = 64
    file_kb: int = 1024
    open_files: int = 64

    def with_overrides(self, **overrides) -> Limits:
        """A copy with the given (non-``None``) values replaced, checked to be positive."""
        names = {f.name for f in fields(self)}
        unknown = set(overrides) - names
        if unknown:
            raise TypeError(f"unknown limit(s): {', '.join(sorted(unknown))}")
        clean = {k: v for k, v in overrides.items() if v is not None}
        for key, value in clean.items():
            if not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"limit {key} must be a positive number, got {value!r}")
        return replace(self, **clean)


SYSTEM_PATHS = ("/usr/bin", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libx32")


def _system_mounts() -> tuple[str, ...]:
    """Read-only binds every box gets, computed once: programs and libraries, not all of /usr
    (never /usr/local or /usr/src, where a host may keep its own software), and the merged-/usr
    symlinks (or the real directories on a host without merged /usr)."""
    args = []
    for name in SYSTEM_PATHS:
        if os.path.isdir(name):
            args += ["--ro-bind", name, name]
    for name in ("/bin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(name):
            args += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            args += ["--ro-bind", name, name]
    args += ["--proc", "/proc", "--dev", "/dev"]
    return tuple(args)


_SYSTEM_MOUNTS = _system_mounts()


def scratch_bytes(limits: Limits) -> int:
    """The size of each writable tmpfs of a box (/tmp and the work directory)."""
    return max(limits.file_kb * 1024 * 2, 1 << 20)


def _bwrap_supports_size() -> bool:
    try:
        out = subprocess.run([BWRAP, "--help"], capture_output=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return b"--size" in out


_SUPPORTS_SIZE: bool | None = None


def _tmpfs(path: str, size_bytes: int) -> list[str]:
    """A fresh tmpfs at ``path``, size-limited when this bwrap can (0.8+): it is host memory."""
    global _SUPPORTS_SIZE
    if _SUPPORTS_SIZE is None:
        _SUPPORTS_SIZE = _bwrap_supports_size()
    if _SUPPORTS_SIZE:
        return ["--size", str(size_bytes), "--perms", "1777", "--tmpfs", path]
    return ["--tmpfs", path]


def build_argv(
    command: Sequence[str],
    limits: Limits,
    *,
    info_fd: int,
    seccomp_fd: int | None = None,
    ro_files: Sequence[tuple[str, str]] = (),
    writable_dir: str | None = None,
    readonly_paths: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    pooled: bool = True,
) -> list[str]:
    """The bwrap command line for one box.

    ``ro_files`` are (host path, path under /box) bound read-only into a fresh tmpfs work
    directory; ``writable_dir`` instead binds a host directory read-write as /box (compile step).
    """
    argv = [
        BWRAP,
        "--info-fd",
        str(info_fd),
        *(("--seccomp", str(seccomp_fd)) if seccomp_fd is not None else ()),
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--hostname",
        "sandbox",
        "--clearenv",
    ]
    if not pooled:
        argv += ["--uid", "65534", "--gid", "65534"]
    for key, value in {**BOX_ENV, **(env or {})}.items():
        argv += ["--setenv", key, value]
    argv += _SYSTEM_MOUNTS
    for path in readonly_paths:
        if os.path.exists(path):
            argv += ["--ro-bind", path, path]
    scratch = scratch_bytes(limits)
    argv += _tmpfs("/tmp", scratch)
    if writable_dir is not None:
        argv += ["--bind", writable_dir, BOX]
    else:
        argv += _tmpfs(BOX, scratch)
        for host, rel in ro_files:
            argv += ["--ro-bind", host, f"{BOX}/{rel}"]
    # The root itself is a tmpfs made by bwrap: read-only, like everything but /tmp and /box.
    # /dev is bwrap's own tmpfs (unbounded): read-only too; its device nodes stay usable.
    argv += ["--remount-ro", "/", "--remount-ro", "/dev", "--chdir", BOX]
    if not pooled:
        # Best effort without a pool: the kernel counts processes per user namespace.
        argv += [PRLIMIT, f"--nproc={limits.procs + 1}", "--"]
    argv += list(command)
    return argv


def _load_libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


_LIBC = _load_libc()
_PR_SET_CHILD_SUBREAPER = 36
_subreaper = False


def _become_subreaper() -> None:
    """Adopt orphaned descendants (the box's pid 1, see ``_reap_box_init``); once per process."""
    global _subreaper
    if not _subreaper and _LIBC is not None:
        _LIBC.prctl(_PR_SET_CHILD_SUBREAPER, 1)
        _subreaper = True


def _rlimits(limits: Limits, address_space_extra_mb: int, pooled: bool) -> list[tuple[int, tuple]]:
    """The resource limits of a box's processes (bwrap's monitor, the box's pid 1 and below)."""
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
        # The box's uid is its own: + 2 for bwrap's monitor and the box's pid 1.
        settings.append((resource.RLIMIT_NPROC, (limits.procs + 2,) * 2))
    return settings


def _preexec(rlimits: list[tuple[int, tuple]], cgroup_procs: str | None = None):
    """A preexec function: runs in the forked child after setuid, right before exec(bwrap)."""
    parent = os.getpid()

    def setup() -> None:
        if cgroup_procs is not None:
            # Into the pool user's memory cgroup (its cgroup.procs belongs to that user).
            with contextlib.suppress(OSError), open(cgroup_procs, "w") as fh:
                fh.write("0")
        for which, value in rlimits:
            resource.setrlimit(which, value)
        if _LIBC is not None:
            # Kill bwrap (and so the box) if this worker dies mid-run.
            _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != parent:
                os._exit(1)

    return setup


def run_box(
    argv_for_fd,
    limits: Limits,
    *,
    stdin: bytes = b"",
    uid: int | None = None,
    address_space_extra_mb: int = 0,
    output_cap: int | None = None,
) -> BoxOutcome:
    """Start the box and supervise it.

    ``argv_for_fd(info_fd, seccomp_fd)`` gives bwrap's command line for the descriptors of its
    info pipe and of the seccomp program (``None`` on architectures without a filter).
    """
    _become_subreaper()
    info_r, info_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
    pass_fds = [info_w]
    seccomp_r = None
    if seccomp.PROGRAM is not None:
        # The filter is a few hundred bytes: it fits in the pipe before bwrap starts reading.
        seccomp_r, seccomp_w = os.pipe2(os.O_CLOEXEC)
        os.write(seccomp_w, seccomp.PROGRAM)
        os.close(seccomp_w)
        pass_fds.append(seccomp_r)
    cgroup = _arm_cgroup(uid, limits)
    cap = output_cap if output_cap is not None else limits.output_kb * 1024
    started = time.monotonic()
    spawn = _spawn_gated if FAST_SPAWN else _spawn_forked
    try:
        proc, error = spawn(
            argv_for_fd(info_w, seccomp_r),
            pass_fds,
            _rlimits(limits, address_space_extra_mb, uid is not None),
            uid,
            cgroup,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        os.close(info_r)  # the spawn functions close pass_fds themselves, whatever happens
        return BoxOutcome(setup_error=f"could not start bwrap: {exc}")
    try:
        outcome = _supervise(proc, stdin, started + limits.wall_s, cap, info_r, uid)
    finally:
        os.close(info_r)
    if error:
        outcome.setup_error = error
    outcome.wall_s = time.monotonic() - started
    outcome.oom_killed = cgroup is not None and cgroup.oom_killed()
    return outcome


def _popen(argv: list[str], pass_fds: list[int], **extra) -> subprocess.Popen:
    return subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        pass_fds=pass_fds,
        env=_BWRAP_ENV,
        cwd="/",
        start_new_session=True,
        **extra,
    )


def _spawn_forked(argv, pass_fds, rlimits, uid, cgroup):
    """Fallback: fork, and set user, limits and cgroup in the child before exec(bwrap).

    A Python ``preexec_fn`` (or ``user=``) makes ``subprocess`` fork instead of vfork: the page
    tables of the whole app are copied for every box (5-15 ms in a web or worker process).
    """
    pooled = uid is not None
    extra = {"user": uid, "group": uid, "extra_groups": []} if pooled else {}
    try:
        proc = _popen(
            argv,
            pass_fds,
            preexec_fn=_preexec(rlimits, cgroup.procs if cgroup else None),
            **extra,
        )
    finally:
        for fd in pass_fds:
            os.close(fd)
    return proc, None


def _spawn_gated(argv, pass_fds, rlimits, uid, cgroup):
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
    launcher = [SETPRIV]
    if uid is not None:
        launcher += [f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    launcher += ["--pdeathsig=KILL", "--", PRLIMIT]
    launcher += [f"--{_PRLIMIT_OPTIONS[which]}={soft}:{hard}" for which, (soft, hard) in rlimits]
    launcher += ["--", SHELL, "-c", _LAUNCH, str(os.getpid())]
    try:
        if not os.access(argv[0], os.X_OK):  # the shell would only report a program error
            raise FileNotFoundError(errno.ENOENT, "not found", argv[0])
        proc = _popen([*launcher, *argv], pass_fds)
    finally:
        for fd in pass_fds:
            os.close(fd)
    error = None
    try:
        if cgroup is not None:
            error = _confine(proc.pid, cgroup)
        if error:
            _kill(proc.pid)  # before the go-ahead: it never runs unconfined
        else:
            with contextlib.suppress(OSError):  # the launcher is already gone
                os.write(proc.stdin.fileno(), b"go\n")
    except BaseException:
        _kill(proc.pid)
        raise
    return proc, error


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


def _arm_cgroup(uid: int | None, limits: Limits):
    """The pool user's memory cgroup, its limit set for this run (None without cgroups)."""
    cgroup = cgroups.for_uid(uid)
    if cgroup is None:
        return None
    mb = 1024 * 1024
    limit = (limits.memory_mb + cgroups.SLACK_MB) * mb + 2 * scratch_bytes(limits)
    try:
        cgroup.arm(limit)
    except OSError:
        return None
    return cgroup


def set_owner(path: str, uid: int | None) -> None:
    """Give a work directory tree to the pool user (a no-op outside the pool)."""
    if uid is None:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, uid, uid)
        for name in dirs + files:
            with contextlib.suppress(FileNotFoundError):
                os.lchown(os.path.join(root, name), uid, uid)
