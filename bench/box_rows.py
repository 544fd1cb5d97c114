"""The sequential rows of ``bench/labs.py``, measured interleaved: one run of each row in turn.

Each row runs the same trivial Python program one way:
(a) bare (subprocess, the sandbox's interpreter and flags); (a') in a bare bubblewrap box;
(a'') in bubblewrap with a sandbox box's own command line; (b) through the sandbox
(``run_program``). A shared, virtualised 2-core machine drifts by 30% and more within a minute:
rows measured one block after another (200 bare runs, then 200 sandboxed) took that drift into
their ratio. Here run i of every row follows run i of the others, in a rotating order, so a
slow stretch slows every row alike and the ratios compare like with like.

CPU per run is this process's own time plus its reaped children's, taken around each run.
The sandbox's boxes are children of its long-lived launchers, which are never reaped during the
benchmark: their CPU (their own and their reaped boxes') is read from ``/proc/PID/stat``
around each run, in clock ticks; summed over the runs, the sampling error averages out.
"""

from __future__ import annotations

import contextlib
import os
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from virtual_labs import box, launcher
from virtual_labs.languages import get_language
from virtual_labs.sandbox import run_program

PROGRAM = 'print("hello, world")\n'
_TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def _own_and_reaped_cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _launchers_cpu() -> float:
    """CPU so far of this process's box launchers, their reaped boxes included."""
    total = 0
    for server in list(launcher._launchers.values()):
        with contextlib.suppress(OSError), open(f"/proc/{server.proc.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total * _TICK_S


def _reap_orphans() -> None:
    """Reap the box pid 1s re-parented to this process (never the sandbox's launchers)."""
    keep = {server.proc.pid for server in launcher._launchers.values()}
    with open(f"/proc/self/task/{os.getpid()}/children") as fh:
        orphans = [int(pid) for pid in fh.read().split() if int(pid) not in keep]
    for pid in orphans:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _check(stdout: bytes) -> None:
    if stdout != b"hello, world\n":
        raise RuntimeError(f"unexpected output: {stdout!r}")


class _Row:
    """One way of running the program: ``once()`` runs it and checks the output."""

    label = ""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.main = work / "main.py"
        self.argv = list(get_language("python").run)

    def once(self) -> None:
        """One run of this row, checked (its timing and CPU are taken around it)."""
        raise NotImplementedError


class Bare(_Row):
    """(a) The program run bare, with the sandbox's interpreter and flags."""

    label = "(a) bare subprocess, sequential"

    def once(self) -> None:
        """One run of this row, checked (its timing and CPU are taken around it)."""
        done = subprocess.run(self.argv, cwd=self.work, capture_output=True, check=True)
        _check(done.stdout)


class Bwrap(_Row):
    """(a') A bare bubblewrap box: the namespaces and mounts of a sandbox box, nothing else."""

    label = "(a') bubblewrap alone, sequential"

    def once(self) -> None:
        """One run of this row, checked (its timing and CPU are taken around it)."""
        bwrap = [
            box.BWRAP, "--unshare-all", "--die-with-parent", "--new-session",
            "--cap-drop", "ALL", "--clearenv", *box._SYSTEM_MOUNTS,
            "--tmpfs", "/tmp", "--tmpfs", box.BOX,
            "--ro-bind", str(self.main), f"{box.BOX}/main.py", "--chdir", box.BOX,
        ]  # fmt: skip
        done = subprocess.run([*bwrap, *self.argv], capture_output=True, check=True)
        _reap_orphans()
        _check(done.stdout)


class BwrapBoxFlags(_Row):
    """(a'') bubblewrap with a box's own command line (seccomp, no nested user namespaces,
    read-only root and /dev, sized tmpfs, info pipe, environment), without what the sandbox
    adds around it: the floor of the isolation kept."""

    label = "(a'') bubblewrap, a box's own flags"

    def once(self) -> None:
        """One run of this row, checked (its timing and CPU are taken around it)."""
        info_r, pass_fds = box._info_and_seccomp()
        fds = (*pass_fds, None)
        command = box.build_argv(
            self.argv, box.Limits(), info_fd=fds[0], seccomp_fd=fds[1],
            ro_files=[(str(self.main), "main.py")],
        )  # fmt: skip
        try:
            done = subprocess.run(command, capture_output=True, pass_fds=pass_fds, check=True)
        finally:
            for fd in (info_r, *pass_fds):
                os.close(fd)
        _reap_orphans()
        _check(done.stdout)


class Sandbox(_Row):
    """(b) Through the sandbox: work directory, pool user, launcher, box, limits, capture."""

    label = "(b) sandbox, sequential"

    def once(self) -> None:
        """One run of this row, checked (its timing and CPU are taken around it)."""
        result = run_program("python", {"main.py": PROGRAM})
        if result.verdict != "ok":
            raise RuntimeError(f"sandbox run failed: {result}")
        _check(result.stdout.encode())


def bench_interleaved(n: int) -> dict[str, dict]:
    """Run every row n times, interleaved; figures per row (median and mean ms, CPU ms)."""
    box._become_subreaper()  # a bwrap box's pid 1 is orphaned: reaped here, its CPU counted
    with tempfile.TemporaryDirectory() as work:
        Path(work, "main.py").write_text(PROGRAM)
        rows = [cls(Path(work)) for cls in (Bare, Bwrap, BwrapBoxFlags, Sandbox)]
        for row in rows:
            row.once()  # warm-up: caches, the bwrap feature probe, the uid's launcher
        durations: dict[str, list[float]] = {row.label: [] for row in rows}
        cpu: dict[str, float] = dict.fromkeys(durations, 0.0)
        started = time.perf_counter()
        for i in range(n):
            for row in rows[i % len(rows) :] + rows[: i % len(rows)]:
                launchers, own = _launchers_cpu(), _own_and_reaped_cpu()
                t = time.perf_counter()
                row.once()
                durations[row.label].append(time.perf_counter() - t)
                cpu[row.label] += _own_and_reaped_cpu() - own + _launchers_cpu() - launchers
        wall = time.perf_counter() - started
    return {
        label: {
            "label": label,
            "runs": len(times),
            "ms": statistics.median(times) * 1000,
            "mean_ms": statistics.fmean(times) * 1000,
            "cpu_ms": cpu[label] / len(times) * 1000,
            "per_s": len(times) / sum(times),
            "seconds": wall,
        }
        for label, times in durations.items()
    }
