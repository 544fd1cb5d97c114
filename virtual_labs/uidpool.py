"""Per-run host users for the sandbox, and the private directory the boxes work in.

``RLIMIT_NPROC`` counts the processes of a *user*, and it does not bind root. So, when the app
runs as root (CI, a container), every box runs as its own unprivileged host uid taken from a pool
(60000-60063 by default, ``LAB_SANDBOX_UIDS=first-last``), like Jobe's per-job users. A uid is
leased with an exclusive ``flock`` on ``<base>/locks/<uid>.lock``: flock locks belong to the open
file, so leases exclude each other across threads *and* processes (local worker threads, Celery
worker processes, parallel test workers), and a crashed holder releases its lease automatically.
The leased uid owns nothing on the host and no other run uses it at the same time, so the
process limit set before ``bwrap`` starts is exactly the box's own budget (the kernel charges the
tasks of a user namespace to its creator's uid as well).

When the app does not run as root (a developer laptop), there is no pool: ``bwrap`` creates a user
namespace mapping the developer's uid to ``nobody`` and the process limit is applied inside the box
by ``prlimit``, which the kernel counts per user namespace. That is a best effort only: production
and CI run as root with the pool.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import random
import secrets
import shutil
import signal
import stat
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

IS_ROOT = os.geteuid() == 0


def _uid_range() -> range:
    spec = os.environ.get("LAB_SANDBOX_UIDS", "60000-60063")
    first, _, last = spec.partition("-")
    return range(int(first), int(last or first) + 1)


UIDS = _uid_range()


def base_dir() -> str:
    """The sandbox's private base directory (created on first use).

    Root: ``/tmp/educluster-sandbox``, mode 0711 (pool users may traverse to their own work
    directory, whose random name they cannot list). Others get a directory of their own.
    """
    default = "/tmp/educluster-sandbox" if IS_ROOT else f"/tmp/educluster-sandbox-{os.geteuid()}"
    return os.environ.get("LAB_SANDBOX_DIR", default)


_base_lock = threading.Lock()
_base_ready: str | None = None


def ensure_base_dir() -> str:
    """Create (or check) the base and lock directories; refuses a path someone else controls."""
    global _base_ready
    path = base_dir()
    if _base_ready == path:
        return path
    with _base_lock:
        for directory, mode in ((path, 0o711), (os.path.join(path, "locks"), 0o700)):
            with contextlib.suppress(FileExistsError):
                os.mkdir(directory, mode)
            info = os.lstat(directory)
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
                raise OSError(
                    errno.EPERM, f"{directory} is not a directory owned by uid {os.geteuid()}"
                )
            if stat.S_IMODE(info.st_mode) != mode:
                os.chmod(directory, mode)
        _sweep(path)
        _base_ready = path
    return path


STALE_AFTER_S = 3600
WORK_PREFIXES = ("prep-", "extra-")
ORPHAN_LOCK_AFTER_S = 60


def _lock_path(base: str, name: str) -> str:
    return os.path.join(base, "locks", f"{name}.lock")


@dataclass
class WorkDir:
    """A box's work directory, owned through an exclusive ``flock`` on ``locks/<name>.lock``.

    Like a uid lease, the lock dies with its process: a run killed with SIGKILL (a web process
    restarted mid-run, an OOM-killed worker) leaves a directory nobody holds, and
    :func:`remove_abandoned_work` removes exactly those, at once, whoever runs it.
    """

    path: str
    _fd: int | None = None

    def remove(self) -> None:
        """Delete the directory, then its lock file, then drop the lock."""
        shutil.rmtree(self.path, ignore_errors=True)
        if self._fd is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(_lock_path(os.path.dirname(self.path), os.path.basename(self.path)))
            os.close(self._fd)
            self._fd = None


def make_work_dir(prefix: str, mode: int = 0o700) -> WorkDir:
    """Create ``<base>/<prefix><random>`` (mode ``mode``), locked by this process until removed.

    The lock file exists (and is locked) before the directory does, so a concurrent sweep never
    sees an unlocked directory of a live run.
    """
    assert prefix in WORK_PREFIXES, prefix
    base = ensure_base_dir()
    while True:
        name = prefix + secrets.token_hex(8)
        try:
            fd = os.open(
                _lock_path(base, name),
                os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC,
                0o600,
            )
        except FileExistsError:  # pragma: no cover - 64 random bits
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            path = os.path.join(base, name)
            os.mkdir(path, mode)
            os.chmod(path, mode)  # mkdir's mode is filtered by the umask
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(_lock_path(base, name))
            os.close(fd)
            raise
        return WorkDir(path, fd)


def remove_abandoned_work() -> int:
    """Remove the work directories of runs whose process died; how many were removed.

    A directory whose lock nobody holds belongs to a dead process; one without a lock file
    (made by an older version) is removed once it is an hour old. Run when a worker recovers
    stale submissions (start-up and periodically) and when this process first uses the base.
    """
    if not os.path.isdir(base_dir()):
        return 0
    return _sweep(ensure_base_dir())  # checks who owns the base before deleting anything in it


def _sweep(path: str) -> int:
    try:
        entries = list(os.scandir(path))
    except FileNotFoundError:
        return 0
    removed = 0
    cutoff = time.time() - STALE_AFTER_S
    for entry in entries:
        if not entry.name.startswith(WORK_PREFIXES) or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            fd = os.open(_lock_path(path, entry.name), os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            with contextlib.suppress(OSError):
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    shutil.rmtree(entry.path, ignore_errors=True)
                    removed += 1
            continue
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)  # its run is alive
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(_lock_path(path, entry.name))
        os.close(fd)
        removed += 1
    _remove_orphan_locks(path)
    return removed


def _remove_orphan_locks(path: str) -> None:
    """Lock files left without their directory (a process killed between the two removals)."""
    cutoff = time.time() - ORPHAN_LOCK_AFTER_S
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(os.path.join(path, "locks")):
            name = entry.name.removesuffix(".lock")
            if not name.startswith(WORK_PREFIXES) or os.path.lexists(os.path.join(path, name)):
                continue
            with contextlib.suppress(OSError):
                if entry.stat(follow_symlinks=False).st_mtime >= cutoff:
                    continue  # perhaps a run about to create its directory
                fd = os.open(entry.path, os.O_RDWR | os.O_CLOEXEC)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    os.unlink(entry.path)
                except BlockingIOError:
                    pass
                finally:
                    os.close(fd)


@dataclass
class Lease:
    """A leased host uid (``None`` outside the pool) held until ``release()``."""

    uid: int | None
    _fd: int | None = None

    def release(self) -> None:
        """Give the sandbox uid back to the pool."""
        if self._fd is not None:
            with _held_lock:
                _held.discard(self.uid)
            os.close(self._fd)  # closing the file drops the flock
            self._fd = None

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


_held: set[int] = set()
_held_lock = threading.Lock()


class PoolExhausted(RuntimeError):
    """Raised when every sandbox uid is leased."""

    pass


def lease_uid(timeout: float = 60.0, prefer: Sequence[int] = ()) -> Lease:
    """Lease a free uid from the pool (waiting up to ``timeout`` seconds for one), trying the
    ``prefer`` uids first (those whose box launcher this process already runs)."""
    if not IS_ROOT:
        return Lease(uid=None)
    locks = os.path.join(ensure_base_dir(), "locks")
    deadline = time.monotonic() + timeout
    uids = list(UIDS)
    preferred = [uid for uid in prefer if uid in UIDS]
    while True:
        # Then from a random place: concurrent callers rarely collide on the same lock file.
        start = random.randrange(len(uids))
        for uid in preferred + uids[start:] + uids[:start]:
            with _held_lock:
                if uid in _held:
                    continue
                _held.add(uid)
            fd = os.open(
                os.path.join(locks, f"{uid}.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
            )
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                with _held_lock:
                    _held.discard(uid)
                continue
            return Lease(uid=uid, _fd=fd)
        if time.monotonic() > deadline:
            raise PoolExhausted(f"all {len(uids)} sandbox users are busy")
        time.sleep(0.01)


def processes_of(uid: int) -> list[int]:
    """Pids of the live processes whose real uid is ``uid`` (read from their status: the
    /proc entries of a process that is not dumpable, such as bwrap's, belong to root)."""
    return [int(name) for name in os.listdir("/proc") if name.isdigit() and real_uid(name) == uid]


def real_uid(pid: int | str) -> int | None:
    """The real uid of process ``pid`` (None once it is gone)."""
    with contextlib.suppress(OSError, ValueError, IndexError), open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None


def kill_processes_of(uid: int, passes: int = 5) -> None:
    """SIGKILL every process of ``uid`` (the caller holds its lease: they are a dead run's).

    Each through a pidfd opened before its uid is checked again, so a pid reused meanwhile by
    another user's process is never signalled; a few passes catch what forked during one.
    """
    for _ in range(passes):
        pids = processes_of(uid)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                pidfd = os.pidfd_open(pid)
                try:
                    if real_uid(pid) == uid:
                        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                finally:
                    os.close(pidfd)
