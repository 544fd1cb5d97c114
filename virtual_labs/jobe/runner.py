"""Run a checked Jobe request on the labs' sandbox, slots and executors.

A run takes one of the same sandbox slots as lab grading (the local pool's semaphore, or a
Celery worker of the labs queue), so Jobe traffic and learners' submissions share the machine
fairly. When no slot is free and more requests than ``LAB_JOBE_QUEUE`` already wait, the answer
is outcome 21 (server overload) at once, as Jobe does, instead of piling requests up.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from celery import shared_task
from flask import Flask

from virtual_labs.languages import LANGUAGES, Language
from virtual_labs.sandbox import Limits, RunVerdict, language_limits, prepare

from .spec import RunSpec

log = logging.getLogger(__name__)
TASK_NAME = "virtual_labs.jobe_run"

# Jobe's outcome codes.
COMPILE_ERROR = 11
RUNTIME_ERROR = 12
TIME_LIMIT = 13
SUCCESS = 15
MEMORY_LIMIT = 17
ILLEGAL_SYSCALL = 19
INTERNAL_ERROR = 20
SERVER_OVERLOAD = 21
VERDICT_OUTCOMES = {
    "ok": SUCCESS,
    "compile_error": COMPILE_ERROR,
    "runtime_error": RUNTIME_ERROR,
    "time_limit": TIME_LIMIT,
    "memory_limit": MEMORY_LIMIT,
    "output_limit": RUNTIME_ERROR,  # Jobe stops a run that floods its output as an error too
    "sandbox_error": INTERNAL_ERROR,
}


def result(outcome: int, cmpinfo: str = "", stdout: str = "", stderr: str = "") -> dict:
    """A Jobe run result."""
    return {
        "run_id": uuid.uuid4().hex,
        "outcome": outcome,
        "cmpinfo": cmpinfo,
        "stdout": stdout,
        "stderr": stderr,
    }


def overload() -> dict:
    """The answer when no sandbox slot can be had: outcome 21, at once."""
    return result(SERVER_OVERLOAD, stderr="All sandbox slots are busy; try again shortly.")


# --- building the run -------------------------------------------------------------------------
def _with_args(base: tuple[str, ...], keep: int, extra: tuple[str, ...], tail: int) -> tuple:
    """``base`` with ``extra`` inserted after its first ``keep`` parts and before its last
    ``tail`` parts (the interpreter and its file stay; the request's flags go between)."""
    return (*base[:keep], *extra, *base[len(base) - tail :]) if tail else (*base[:keep], *extra)


def job_language(spec: RunSpec) -> Language:
    """The lab language with the request's file name and compile/interpreter arguments."""
    lang = LANGUAGES[spec.language]
    p = spec.parameters
    name = spec.sourcefilename
    if lang.key == "python":
        flags = p.get("interpreterargs", lang.run[1:-1])
        return replace(lang, source_file=name, source_exts=(), run=(lang.run[0], *flags, name))
    if lang.key == "javascript":
        extra = p.get("interpreterargs", ())
        return replace(lang, source_file=name, run=(*lang.run[:-1], *extra, name))
    if lang.key == "java":
        compile_ = lang.compile
        if "compileargs" in p:
            compile_ = (*compile_[:-1], *p["compileargs"], compile_[-1])
        run = (*lang.run[:-1], *p.get("interpreterargs", ()), spec.main_class)
        return replace(lang, source_file=name, compile=compile_, run=run)
    # C and C++: [compiler, *flags, "-o", "main", "{sources}", *link flags]
    compile_ = lang.compile
    if "compileargs" in p or "linkargs" in p:
        flags = p.get("compileargs", compile_[1:-4])
        links = p.get("linkargs", compile_[-1:])
        compile_ = (compile_[0], *flags, "-o", "main", "{sources}", *links)
    exts = lang.source_exts if name.endswith(lang.source_exts) else (*lang.source_exts, name)
    return replace(lang, source_file=name, source_exts=exts, compile=compile_)


def job_limits(lang: Language, parameters: Mapping[str, Any]) -> Limits:
    """The language's limits with the request's cputime, memorylimit, numprocs, disk, streams."""
    limits = language_limits(lang)
    cpu = parameters.get("cputime")
    overrides: dict[str, Any] = {}
    if cpu:
        overrides["cpu_s"] = float(cpu)
        # Jobe allows wall time a little above CPU time (waiting on I/O, JVM start-up).
        overrides["wall_s"] = min(60.0, max(limits.wall_s, 2 * float(cpu) + 2))
    if parameters.get("memorylimit"):
        overrides["memory_mb"] = int(parameters["memorylimit"])
    if parameters.get("numprocs"):
        overrides["procs"] = int(parameters["numprocs"])
    if parameters.get("disklimit"):
        overrides["file_kb"] = int(parameters["disklimit"] * 1024)
    if parameters.get("streamsize"):
        overrides["output_kb"] = int(parameters["streamsize"] * 1024)
    return limits.with_overrides(**overrides)


def _python_syntax_error(lang: Language, stderr: str) -> bool:
    """A Python syntax error in the main file: Jobe checks Python with py_compile first and
    answers 11 (compile error); the interpreter reports it without a traceback header."""
    return (
        lang.key == "python"
        and "Traceback (most recent call last)" not in stderr
        and ("SyntaxError:" in stderr or "IndentationError:" in stderr or "TabError:" in stderr)
    )


def execute(job: dict) -> dict:
    """Run one job (a :func:`job_payload`) in the sandbox and answer Jobe's result document."""
    spec = RunSpec(**{**job["spec"], "file_list": ()})
    lang = job_language(spec)
    if not lang.available:
        return result(INTERNAL_ERROR, stderr=f"{lang.label} is not installed on this server.")
    files: dict[str, str | bytes] = {spec.sourcefilename: spec.sourcecode}
    files.update(job.get("files") or {})
    limits = job_limits(lang, spec.parameters)
    try:
        with prepare(lang, files, limits) as prepared:
            if not prepared.ok:
                compiled = prepared.compile_result
                if compiled.verdict == RunVerdict.COMPILE_ERROR:
                    return result(COMPILE_ERROR, cmpinfo=compiled.compile_output)
                return result(INTERNAL_ERROR, stderr=compiled.stderr)
            run = prepared.run(spec.stdin, spec.parameters.get("runargs", ()), limits)
    except ValueError as exc:  # files the sandbox refuses (checked earlier; kept as a guard)
        return result(INTERNAL_ERROR, stderr=str(exc))
    if run.verdict == RunVerdict.RUNTIME_ERROR and _python_syntax_error(lang, run.stderr):
        return result(COMPILE_ERROR, cmpinfo=run.stderr)
    outcome = VERDICT_OUTCOMES.get(str(run.verdict), INTERNAL_ERROR)
    if run.verdict == RunVerdict.RUNTIME_ERROR and run.signal == signal.SIGSYS:
        outcome = ILLEGAL_SYSCALL  # the seccomp filter stopped a forbidden system call
    stderr = run.stderr
    if run.verdict == RunVerdict.OUTPUT_LIMIT:
        stderr += "\n(output limit exceeded)"
    return result(outcome, stdout=run.stdout, stderr=stderr)


def job_payload(spec: RunSpec, files: Mapping[str, bytes]) -> dict:
    """A JSON-able job (for Celery): the checked spec and the support files' contents."""
    data = {
        "jobe_language": spec.jobe_language,
        "language": spec.language,
        "sourcecode": spec.sourcecode,
        "sourcefilename": spec.sourcefilename,
        "stdin": spec.stdin,
        "parameters": dict(spec.parameters),
        "debug": spec.debug,
    }
    return {
        "spec": data,
        "files": {name: content.decode("latin-1") for name, content in files.items()},
    }


def _decode_files(job: dict) -> dict:
    files = {name: text.encode("latin-1") for name, text in (job.get("files") or {}).items()}
    return {**job, "files": files}


# --- admission: the shared sandbox slots ------------------------------------------------------
class Gate:
    """Admits a run to a sandbox slot, or refuses at once when too many already wait."""

    def __init__(self, slots: threading.Semaphore, queue: int, wait_s: float) -> None:
        self.slots = slots
        self.queue = max(0, int(queue))
        self.wait_s = wait_s
        self._lock = threading.Lock()
        self.waiting = 0

    @contextmanager
    def slot(self) -> Iterator[bool]:
        """Yields True while holding a slot, False when the server is overloaded."""
        if self.slots.acquire(blocking=False):
            try:
                yield True
            finally:
                self.slots.release()
            return
        with self._lock:
            admitted = self.waiting < self.queue
            if admitted:
                self.waiting += 1
        if not admitted:
            yield False
            return
        try:
            got = self.slots.acquire(timeout=self.wait_s)
        finally:
            with self._lock:
                self.waiting -= 1
        if not got:
            yield False
            return
        try:
            yield True
        finally:
            self.slots.release()


_gate_lock = threading.Lock()


def gate(app: Flask) -> Gate:
    """The app's gate: the local pool's slots (inline executor: a semaphore of its own)."""
    with _gate_lock:
        found = app.extensions.get("virtual_labs.jobe_gate")
        if found is None:
            workers = int(app.config.get("LAB_WORKERS") or 1)
            if app.config.get("LAB_EXECUTOR") == "celery":
                # Each web process bounds what it has in flight at the Celery workers.
                slots = threading.BoundedSemaphore(workers)
            elif app.config.get("LAB_EXECUTOR") == "inline":
                slots = threading.BoundedSemaphore(workers)
            else:
                from virtual_labs.executors import local_pool  # the pool imports tasks/models

                slots = local_pool(app, start=False).slots
            found = Gate(
                slots,
                int(app.config.get("LAB_JOBE_QUEUE", 2 * workers)),
                float(app.config.get("LAB_JOBE_WAIT_SECONDS", 30.0)),
            )
            app.extensions["virtual_labs.jobe_gate"] = found
        return found


def run_job(app: Flask, spec: RunSpec, files: Mapping[str, bytes]) -> dict:
    """Admit and run one request on the configured executor; Jobe's result document."""
    job = job_payload(spec, files)
    with gate(app).slot() as admitted:
        if not admitted:
            return overload()
        if app.config.get("LAB_EXECUTOR") == "celery":
            return _run_on_celery(app, job)
        return execute(_decode_files(job))


def _run_on_celery(app: Flask, job: dict) -> dict:
    celery_app = app.extensions.get("celery")
    if celery_app is None:
        from virtual_labs.tasks import celery_init_app  # only for the celery executor

        celery_app = celery_init_app(app)
    limits = job_limits(LANGUAGES[job["spec"]["language"]], job["spec"]["parameters"])
    # A compile step, the run and the queue of a busy worker: never wait forever.
    timeout = 60 + 2 * limits.wall_s
    started = time.monotonic()
    try:
        pending = celery_app.send_task(TASK_NAME, args=[job], ignore_result=False)
        return pending.get(timeout=timeout, disable_sync_subtasks=False)
    except Exception:  # broker down, worker lost, timeout: the client may try again
        log.exception("Jobe run via Celery failed after %.1fs", time.monotonic() - started)
        return overload()


@shared_task(name=TASK_NAME, ignore_result=False, acks_late=False)
def jobe_run_task(job: dict) -> dict:
    """Celery entry point: run one Jobe job on this worker's sandbox."""
    return execute(_decode_files(job))
