"""What a sandboxed run's outcome means: its verdict and the result handed to callers.

Verdicts: ``ok``, ``compile_error``, ``runtime_error``, ``time_limit`` (CPU limit: SIGXCPU or
measured CPU over the limit; or the wall limit), ``memory_limit`` (an allocation failure message
such as ``MemoryError``/``std::bad_alloc``/V8's out-of-memory, or a crash with peak memory near
the limit), ``output_limit`` (stdout or stderr over the cap, and also a file over the file size
limit: SIGXFSZ, or Python's EFBIG/ENOSPC errors, since writing a huge file is producing too much
output), ``sandbox_error`` (bwrap could not set the box up).
"""

from __future__ import annotations

import enum
import signal
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for annotations: box imports nothing from here
    from .box import BoxOutcome, Limits

_MEMORY_MARKERS = (
    b"MemoryError",
    b"std::bad_alloc",
    b"JavaScript heap out of memory",
    b"Fatal process out of memory",
    b"Cannot allocate memory",
    b"out of memory",
    b"allocation failed",
)
_FILE_LIMIT_MARKERS = (b"[Errno 27] File too large", b"[Errno 28] No space left on device")


class RunVerdict(enum.StrEnum):
    """How one sandboxed run ended."""

    OK = "ok"
    RUNTIME_ERROR = "runtime_error"
    TIME_LIMIT = "time_limit"
    MEMORY_LIMIT = "memory_limit"
    OUTPUT_LIMIT = "output_limit"
    COMPILE_ERROR = "compile_error"
    SANDBOX_ERROR = "sandbox_error"


VERDICTS = tuple(RunVerdict)


@dataclass(frozen=True)
class RunResult:
    """The outcome of one run (or of a failed compile step)."""

    verdict: str
    exit_code: int | None = None
    signal: int | None = None
    stdout: str = ""
    stderr: str = ""
    compile_output: str = ""
    cpu_s: float = 0.0
    wall_s: float = 0.0
    memory_kb: int = 0
    truncated: bool = False

    def to_dict(self) -> dict:
        data = asdict(self)
        data["cpu_s"] = round(self.cpu_s, 4)
        data["wall_s"] = round(self.wall_s, 4)
        return data

    @classmethod
    def from_dict(cls, data: Mapping) -> RunResult:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _verdict(o: BoxOutcome, limits: Limits) -> str:
    if o.setup_error:
        return RunVerdict.SANDBOX_ERROR
    if o.overflow:
        return RunVerdict.OUTPUT_LIMIT
    if o.oom_killed:  # the memory cgroup's OOM killer stopped the box
        return RunVerdict.MEMORY_LIMIT
    if o.timed_out or o.signal == signal.SIGXCPU or o.cpu_s > limits.cpu_s:
        return RunVerdict.TIME_LIMIT
    if o.signal == signal.SIGXFSZ:
        return RunVerdict.OUTPUT_LIMIT
    budget_kb = limits.memory_mb * 1024
    if o.exit_code == 0 and o.signal is None:
        # Runtimes given extra address space (V8) are held to the limit on their peak instead.
        return RunVerdict.MEMORY_LIMIT if o.memory_kb > budget_kb else "ok"
    if any(marker in o.stderr for marker in _MEMORY_MARKERS):
        return RunVerdict.MEMORY_LIMIT
    if o.memory_kb >= 0.9 * budget_kb:  # a crash (or a failed allocation) at the limit
        return RunVerdict.MEMORY_LIMIT
    if any(marker in o.stderr for marker in _FILE_LIMIT_MARKERS):
        return RunVerdict.OUTPUT_LIMIT
    return RunVerdict.RUNTIME_ERROR


def _result(o: BoxOutcome, limits: Limits) -> RunResult:
    stderr = _decode(o.stderr)
    if o.setup_error:
        stderr = f"sandbox error: {o.setup_error}"
    return RunResult(
        verdict=_verdict(o, limits),
        exit_code=o.exit_code,
        signal=o.signal,
        stdout=_decode(o.stdout),
        stderr=stderr,
        cpu_s=o.cpu_s,
        wall_s=o.wall_s,
        memory_kb=o.memory_kb,
        truncated=o.overflow,
    )
