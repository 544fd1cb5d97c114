"""The lab sandbox API: compile and run learner programs in bubblewrap boxes.

Every run, compile steps included, goes through ``box.run_box``: a fresh box per run, as its own
pool user, with CPU/wall/memory/process/file/output limits (see ``box`` and ``uidpool`` for how).
Learner code never runs unsandboxed: when ``sandbox_status()`` is not ok, labs are disabled.

- ``run_program(language, files, stdin, args, limits)``: compile if needed, then run once.
- ``prepare(language, files, limits)``: compile once, then ``Prepared.run(...)`` many times (one
  fresh box per test). A run sees the prepared files read-only in a fresh, size-limited tmpfs
  work directory, so it can create scratch files but never sees a previous run's leftovers.

Verdicts: see ``results`` (what a run's outcome means) and ``workfiles`` (what a box sees).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace

from . import launcher, uidpool
from .box import BWRAP, BoxOutcome, Limits, build_argv, run_box, set_owner
from .languages import Language, get_language
from .results import VERDICTS, RunResult, RunVerdict, _decode, _result
from .workfiles import MAX_FILES, MAX_FILES_BYTES, _expand, _seal, _write_files  # noqa: F401

__all__ = [
    "Limits",
    "RunResult",
    "Prepared",
    "prepare",
    "run_program",
    "sandbox_status",
    "language_limits",
    "VERDICTS",
    "RunVerdict",
]

COMPILE_OUTPUT_CAP = 64 * 1024


def language_limits(language: str | Language, limits: Limits | None = None) -> Limits:
    """``limits`` if given, else the global defaults with the language's own overrides."""
    if limits is not None:
        return limits
    lang = get_language(language) if isinstance(language, str) else language
    return Limits().with_overrides(**asdict(lang.limits))


def _compile_limits(lang: Language) -> Limits:
    return Limits(output_kb=COMPILE_OUTPUT_CAP // 1024, file_kb=64 * 1024).with_overrides(
        **asdict(lang.compile_limits)
    )


class Prepared:
    """A submission written out (and compiled, once) for any number of runs."""

    def __init__(
        self,
        language: str | Language,
        files: Mapping[str, str | bytes],
        limits: Limits | None = None,
    ) -> None:
        # A Language itself: a caller's variant of an entry (the Jobe API's file names, flags).
        self.language = language if isinstance(language, Language) else get_language(language)
        self.limits = language_limits(self.language, limits)
        self.compile_result: RunResult | None = None
        # Locked while this process lives: a killed run's directory is swept at recovery.
        self._work = uidpool.make_work_dir("prep-")
        self._dir = self._work.path
        try:
            written = _write_files(self._dir, files)
            if not self.language.available:
                self.compile_result = RunResult(
                    verdict=RunVerdict.SANDBOX_ERROR,
                    stderr=f"{self.language.label} is not installed on this server "
                    f"({self.language.missing})",
                )
            elif self.language.compiled:
                self.compile_result = self._compile(written)
            self._files = _seal(self._dir)
        except BaseException:
            self.close()
            raise

    @property
    def ok(self) -> bool:
        return self.compile_result is None or self.compile_result.verdict == RunVerdict.OK

    def _compile(self, written: list[tuple[str, str]]) -> RunResult:
        lang = self.language
        limits = _compile_limits(lang)
        sources = [rel for _, rel in written if rel.endswith(lang.source_exts)]
        command = _expand(lang.compile, sources=sources, memory_mb=limits.memory_mb)

        def run(uid: int | None) -> BoxOutcome:
            set_owner(self._dir, uid)
            return _run_as(uid, command, limits, lang, writable_dir=self._dir)

        outcome = _with_lease(run)
        output = _decode(outcome.stdout + outcome.stderr)
        if outcome.setup_error:
            return RunResult(
                verdict=RunVerdict.SANDBOX_ERROR, stderr=f"sandbox error: {outcome.setup_error}"
            )
        verdict = (
            RunVerdict.OK
            if outcome.exit_code == 0 and outcome.signal is None
            else RunVerdict.COMPILE_ERROR
        )
        if outcome.timed_out or (outcome.signal == signal.SIGXCPU):
            output += "\nThe compiler exceeded its time limit."
        elif outcome.oom_killed:
            output += "\nThe compiler ran out of memory."
        elif outcome.overflow:
            output += "\n(compiler output truncated)"
        return RunResult(
            verdict=verdict,
            exit_code=outcome.exit_code,
            signal=outcome.signal,
            compile_output=output,
            cpu_s=outcome.cpu_s,
            wall_s=outcome.wall_s,
            memory_kb=outcome.memory_kb,
            truncated=outcome.overflow,
        )

    def run(
        self,
        stdin: str | bytes = b"",
        args: Sequence[str] = (),
        limits: Limits | None = None,
        *,
        extra_files: Mapping[str, str | bytes] | None = None,
        command: Sequence[str] | None = None,
    ) -> RunResult:
        """Run the prepared program once in a fresh box.

        ``extra_files`` are added read-only next to the submission for this run only (the
        grading harness); ``command`` replaces the language's run command (``args`` follow it).
        """
        if not self.ok:
            return self.compile_result
        limits = limits or self.limits
        files = dict((rel, host) for host, rel in self._files)
        extra = None
        try:
            if extra_files:
                extra = uidpool.make_work_dir("extra-", 0o755)
                for host, rel in _write_files(extra.path, extra_files):
                    files[rel] = host
            argv = _expand(command or self.language.run, sources=[], memory_mb=limits.memory_mb) + [
                str(a) for a in args
            ]
            data = stdin.encode("utf-8") if isinstance(stdin, str) else bytes(stdin)
            outcome = _with_lease(
                lambda uid: _run_as(
                    uid,
                    argv,
                    limits,
                    self.language,
                    stdin=data,
                    ro_files=[(host, rel) for rel, host in sorted(files.items())],
                )
            )
        finally:
            if extra is not None:
                extra.remove()
        return _result(outcome, limits)

    def close(self) -> None:
        self._work.remove()

    def __enter__(self) -> Prepared:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _run_as(
    uid: int | None,
    command: Sequence[str],
    limits: Limits,
    lang: Language,
    *,
    stdin: bytes = b"",
    writable_dir: str | None = None,
    ro_files: Sequence[tuple[str, str]] = (),
) -> BoxOutcome:
    if lang.runtime_tasks:
        limits = replace(limits, procs=limits.procs + lang.runtime_tasks)

    def argv(info_fd: int, seccomp_fd: int | None) -> list[str]:
        return build_argv(
            command,
            limits,
            info_fd=info_fd,
            seccomp_fd=seccomp_fd,
            ro_files=ro_files,
            writable_dir=writable_dir,
            readonly_paths=lang.readonly_paths,
            env=dict(lang.env),
            pooled=uid is not None,
        )

    return run_box(
        argv,
        limits,
        stdin=stdin,
        uid=uid,
        address_space_extra_mb=lang.address_space_extra_mb,
    )


def _with_lease(fn) -> BoxOutcome:
    try:
        lease = uidpool.lease_uid(prefer=launcher.warm_uids())
    except (uidpool.PoolExhausted, OSError) as exc:
        return BoxOutcome(setup_error=str(exc))
    with lease:
        return fn(lease.uid)


def prepare(
    language: str | Language, files: Mapping[str, str | bytes], limits: Limits | None = None
) -> Prepared:
    """Write the submission out and compile it once (use as a context manager)."""
    return Prepared(language, files, limits)


def run_program(
    language: str,
    files: Mapping[str, str | bytes],
    stdin: str | bytes = b"",
    args: Sequence[str] = (),
    limits: Limits | None = None,
) -> RunResult:
    """Compile (if the language needs it) and run a program once."""
    with prepare(language, files, limits) as prepared:
        if not prepared.ok:
            return prepared.compile_result
        result = prepared.run(stdin, args)
        if prepared.compile_result is not None:
            result = replace(result, compile_output=prepared.compile_result.compile_output)
        return result


_status: tuple[bool, str] | None = None
_status_lock = threading.Lock()


def sandbox_mode() -> str:
    """How boxes are isolated on this host, in words (for the admin page and selftest)."""
    if uidpool.IS_ROOT:
        return f"one host user per box from uids {uidpool.UIDS.start}-{uidpool.UIDS.stop - 1}"
    return "user namespace as nobody (not root: process limits are best effort)"


def sandbox_status(refresh: bool = False) -> tuple[bool, str]:
    """(usable, message): bwrap is installed and a trivial box works. Cached per process."""
    global _status
    with _status_lock:
        if _status is not None and not refresh:
            return _status
        _status = _check_sandbox()
        return _status


def _check_sandbox() -> tuple[bool, str]:
    if not (os.path.isfile(BWRAP) and os.access(BWRAP, os.X_OK)):
        return (
            False,
            "Labs are disabled: bubblewrap (bwrap) is not installed on this server. "
            "Install it (apt-get install bubblewrap) and restart.",
        )
    try:
        uidpool.ensure_base_dir()
    except OSError as exc:
        return False, f"Labs are disabled: the sandbox directory is unusable ({exc})."
    outcome = _with_lease(
        lambda uid: _run_as(uid, _PROBE_COMMAND, Limits(), get_language("python"), ro_files=())
    )
    if outcome.setup_error or outcome.exit_code != 0:
        detail = (
            outcome.setup_error or _decode(outcome.stderr).strip() or f"exit {outcome.exit_code}"
        )
        return False, f"Labs are disabled: the sandbox self-check failed ({detail})."
    problems = _probe_problems(_decode(outcome.stdout))
    if problems:
        return False, f"Labs are disabled: the sandbox is not isolated ({'; '.join(problems)})."
    return True, f"Sandbox ready: bubblewrap, {sandbox_mode()}."


# A quick look from inside a box at what matters most (``flask labs selftest`` goes further).
_PROBE_COMMAND = (
    "/bin/sh",
    "-c",
    "id -u; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; ls /sys/class/net 2>/dev/null;"
    " ls -d /etc/shadow /root /home 2>/dev/null; echo end",
)


def _probe_problems(output: str) -> list[str]:
    lines = output.split()
    problems = []
    if not lines or lines[0] == "0":
        problems.append("the box runs as root")
    if "0000000000000000" not in lines:
        problems.append("the box keeps capabilities")
    if any(path in lines for path in ("/etc/shadow", "/root", "/home")):
        problems.append("host files are visible")
    if "end" not in lines:
        problems.append("the probe did not finish")
    return problems
