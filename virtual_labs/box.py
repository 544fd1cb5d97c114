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
import os
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace

from . import cgroups, launcher, seccomp, spawn
from .spawn import _LAUNCH, PRLIMIT, SHELL  # noqa: F401 - part of this module's interface
from .supervise import BoxOutcome, Stdio, _supervise

__all__ = ["BoxOutcome", "Limits", "build_argv", "run_box", "set_owner", "scratch_bytes"]

BWRAP = os.environ.get("LAB_BWRAP") or shutil.which("bwrap") or "/usr/bin/bwrap"
BOX = "/box"
BOX_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp"}
# How boxes are started (see ``spawn``); tests switch between the three.
LAUNCHER = launcher.ENABLED
FAST_SPAWN = spawn.FAST_SPAWN


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
    argv = [BWRAP, *_isolation(info_fd, seccomp_fd, pooled)]
    for key, value in {**BOX_ENV, **(env or {})}.items():
        argv += ["--setenv", key, value]
    argv += _SYSTEM_MOUNTS
    for path in readonly_paths:
        if os.path.exists(path):
            argv += ["--ro-bind", path, path]
    argv += _work_mounts(scratch_bytes(limits), ro_files, writable_dir)
    if not pooled:
        # Best effort without a pool: the kernel counts processes per user namespace.
        argv += [PRLIMIT, f"--nproc={limits.procs + 1}", "--"]
    argv += list(command)
    return argv


def _isolation(info_fd: int, seccomp_fd: int | None, pooled: bool) -> list[str]:
    """Every namespace, no capabilities, no nested user namespaces, an empty environment."""
    options = [
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
        options += ["--uid", "65534", "--gid", "65534"]
    return options


def _work_mounts(
    scratch: int, ro_files: Sequence[tuple[str, str]], writable_dir: str | None
) -> list[str]:
    """/tmp and /box (a fresh tmpfs with the files bound read-only, or the compile directory),
    then everything else read-only."""
    argv = _tmpfs("/tmp", scratch)
    if writable_dir is not None:
        argv += ["--bind", writable_dir, BOX]
    else:
        argv += _tmpfs(BOX, scratch)
        for host, rel in ro_files:
            argv += ["--ro-bind", host, f"{BOX}/{rel}"]
    # The root itself is a tmpfs made by bwrap: read-only, like everything but /tmp and /box.
    # /dev is bwrap's own tmpfs (unbounded): read-only too; its device nodes stay usable.
    return argv + ["--remount-ro", "/", "--remount-ro", "/dev", "--chdir", BOX]


_PR_SET_CHILD_SUBREAPER = 36
_subreaper = False


def _become_subreaper() -> None:
    """Adopt orphaned descendants (the box's pid 1, see ``_reap_box_init``); once per process."""
    global _subreaper
    if not _subreaper and spawn.LIBC is not None:
        spawn.LIBC.prctl(_PR_SET_CHILD_SUBREAPER, 1)
        _subreaper = True


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
    start = _spawner(uid)
    info_r, pass_fds = _info_and_seccomp()
    stdio, child_stdio = _pipes()
    launched = start is spawn.spawn_launched
    if launched:  # its bwrap sees the descriptors at fixed numbers
        seen = (spawn.LAUNCHED_INFO_FD, spawn.LAUNCHED_SECCOMP_FD)[: len(pass_fds)]
    else:
        seen = tuple(pass_fds)
    seen += (None,) * (2 - len(seen))
    cgroup = _arm_cgroup(uid, limits)
    rlimits = spawn.rlimits(limits, address_space_extra_mb, uid is not None, launched)
    started = time.monotonic()
    try:
        box, error = start(argv_for_fd(*seen), pass_fds, child_stdio, rlimits, uid, cgroup, stdio)
    except (OSError, subprocess.SubprocessError) as exc:
        box, error = None, f"could not start bwrap: {exc}"  # the spawns closed the child's ends
    if box is None:
        os.close(info_r)
        stdio.close()
        return BoxOutcome(setup_error=error)
    cap = output_cap if output_cap is not None else limits.output_kb * 1024
    try:
        outcome = _supervise(box, stdio, stdin, started + limits.wall_s, cap, info_r, uid)
    except launcher.LauncherError as exc:  # the launcher died mid-run (it took the box along)
        launcher.discard(uid)
        outcome = BoxOutcome(setup_error=f"the box launcher failed: {exc}")
    finally:
        os.close(info_r)
    if error:
        outcome.setup_error = error
    outcome.wall_s = time.monotonic() - started
    outcome.oom_killed = cgroup is not None and cgroup.oom_killed()
    return outcome


def _spawner(uid: int | None):
    if uid is not None and LAUNCHER:
        return spawn.spawn_launched
    return spawn.spawn_gated if FAST_SPAWN else spawn.spawn_forked


def _info_and_seccomp() -> tuple[int, list[int]]:
    """bwrap's info pipe (our end) and the descriptors it gets: the info pipe's other end, and
    the seccomp program's pipe (none on architectures without a filter)."""
    info_r, info_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
    pass_fds = [info_w]
    if seccomp.PROGRAM is not None:
        # The filter is a few hundred bytes: it fits in the pipe before bwrap starts reading.
        seccomp_r, seccomp_w = os.pipe2(os.O_CLOEXEC)
        os.write(seccomp_w, seccomp.PROGRAM)
        os.close(seccomp_w)
        pass_fds.append(seccomp_r)
    return info_r, pass_fds


def _pipes() -> tuple[Stdio, tuple[int, int, int]]:
    """The box's standard streams: our ends, and the child's (stdin, stdout, stderr)."""
    in_r, in_w = os.pipe2(os.O_CLOEXEC)
    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    return Stdio(in_w, out_r, err_r), (in_r, out_w, err_w)


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
