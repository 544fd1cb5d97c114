"""Per-box memory cgroups (cgroup v1), when the host offers them: defence in depth.

``RLIMIT_AS`` bounds a program's own memory, but not what it makes the *kernel* allocate: a box
creating millions of empty files in its tmpfs, for instance, costs host memory (inodes and
dentries) without touching its address space. A memory cgroup counts kernel memory as well,
and its OOM killer stops the box at the limit.

Each pool uid gets one persistent cgroup, ``<memory hierarchy>/<this process's
cgroup>/educluster-sandbox/uid-<uid>``, whose ``cgroup.procs`` is given to that uid. Every box
is created inside it: as root, by the uid's long-lived launcher, which was moved in once when it
started (see ``launcher``); otherwise its start-up process is moved in before it may exec bwrap
(by the app, see ``spawn.spawn_gated``; or by itself in the forked fallback). The limit is set
before each run, and the cgroup's OOM-kill counter tells afterwards whether the kernel had to
stop the box.

Cost: moving a process between cgroups waits for an RCU grace period on cgroup v1 (5-15 ms of
wall time, no CPU) because the kernel switches its thread-group lock to the writer's slow path;
cgroup v1 has no ``CLONE_INTO_CGROUP`` to create the process in place. That was the largest
single cost of a box's start; the launchers pay it once per uid and process, not per run.

Used only as root with the pool and a writable cgroup v1 memory hierarchy (the machines this
app runs on); otherwise, or with ``LAB_SANDBOX_CGROUPS=0``, boxes rely on rlimits alone. cgroup v2
is not used: enabling its memory controller below this process's own cgroup would first require
moving the app's processes, which is not the sandbox's business.
"""

from __future__ import annotations

import logging
import os
import threading

from . import uidpool

log = logging.getLogger(__name__)

MEMORY_ROOT = "/sys/fs/cgroup/memory"
SLACK_MB = 64  # bwrap itself, page tables, kernel objects of the namespaces


def _own_memory_cgroup() -> str | None:
    try:
        with open("/proc/self/cgroup") as fh:
            for line in fh:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                if "memory" in controllers.split(","):
                    return path
    except OSError:
        return None
    return None


class BoxCgroup:
    """The memory cgroup of one pool uid."""

    def __init__(self, path: str, uid: int) -> None:
        self.path = path
        self.uid = uid
        self.procs = os.path.join(path, "cgroup.procs")
        self._oom_before = 0

    def _write(self, name: str, value: int | str) -> None:
        with open(os.path.join(self.path, name), "w") as fh:
            fh.write(str(value))

    def oom_kills(self) -> int:
        """Number of processes the kernel killed for memory in this box's cgroup."""
        try:
            with open(os.path.join(self.path, "memory.oom_control")) as fh:
                for line in fh:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def arm(self, limit_bytes: int) -> None:
        """Set the limit for the next run and remember the OOM-kill count."""
        self._write("memory.limit_in_bytes", limit_bytes)
        self._oom_before = self.oom_kills()

    def oom_killed(self) -> bool:
        """Whether the kernel OOM-killed a process of the box since ``arm``."""
        return self.oom_kills() > self._oom_before


_lock = threading.Lock()
_cgroups: dict[int, BoxCgroup] = {}
_disabled: str | None = None


def _base() -> str | None:
    own = _own_memory_cgroup()
    if own is None or not os.path.isdir(MEMORY_ROOT):
        return None
    return os.path.join(MEMORY_ROOT, own.lstrip("/"), "educluster-sandbox")


def for_uid(uid: int | None) -> BoxCgroup | None:
    """The cgroup for a pool uid, created on first use; ``None`` when cgroups are not used."""
    global _disabled
    if uid is None or not uidpool.IS_ROOT or os.environ.get("LAB_SANDBOX_CGROUPS") == "0":
        return None
    with _lock:
        if _disabled is not None:
            return None
        cgroup = _cgroups.get(uid)
        if cgroup is not None:
            return cgroup
        base = _base()
        if base is None:
            _disabled = "no cgroup v1 memory hierarchy"
            return None
        path = os.path.join(base, f"uid-{uid}")
        try:
            os.makedirs(path, exist_ok=True)
            os.chown(os.path.join(path, "cgroup.procs"), uid, uid)
            cgroup = BoxCgroup(path, uid)
            cgroup.oom_kills()
        except OSError as exc:
            _disabled = f"memory cgroups unavailable ({exc})"
            log.info("lab sandbox: %s; boxes rely on rlimits alone", _disabled)
            return None
        _cgroups[uid] = cgroup
        return cgroup


def status() -> str:
    """In words, whether boxes get memory cgroups (for the self-test report)."""
    probe = for_uid(uidpool.UIDS.start) if uidpool.IS_ROOT else None
    if probe is not None:
        return f"memory cgroups under {os.path.dirname(probe.path)}"
    return _disabled or "no memory cgroups (not root)"
