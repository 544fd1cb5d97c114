"""The lab languages: one small declarative entry each.

Adding a language is a few lines: a source file name, an optional compile command, a run
command and default limits. Commands are argv lists run inside the sandbox with the work
directory as the current directory; ``{sources}`` expands to every submitted file ending in one
of ``source_exts``, ``{memory_mb}`` to the run's memory limit and ``{heap_mb}`` to that limit
less 64 MB for the runtime itself (a garbage-collected heap cap). Interpreter and compiler paths
are resolved once at import to real files under ``/usr``, so a box only needs ``/usr/bin`` and
``/usr/lib*`` (plus ``/etc/ld.so.cache``, and ``/usr/include`` to compile C and C++) read-only,
never ``/etc/alternatives``, ``/usr/local`` or a venv.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field


def _resolve(*candidates: str) -> str | None:
    """The real path of the first candidate that exists (a name is looked up on PATH).

    A virtualenv or pyenv shim would pull the host's home or the app's directory into the box,
    so only executables whose real path lives under ``/usr/bin`` or ``/usr/lib*`` (what boxes
    see) are accepted.
    """
    for candidate in candidates:
        path = candidate if os.path.isabs(candidate) else shutil.which(candidate)
        if not path or not os.path.exists(path):
            continue
        real = os.path.realpath(path)
        if real.startswith(("/usr/bin/", "/usr/lib")) and os.access(real, os.X_OK):
            return real
    return None


@dataclass(frozen=True)
class DefaultLimits:
    """Per-language defaults (see ``sandbox.Limits``); ``None`` keeps the global default."""

    cpu_s: float | None = None
    wall_s: float | None = None
    memory_mb: int | None = None
    procs: int | None = None


@dataclass(frozen=True)
class Language:
    """How to compile and run one language inside the sandbox."""

    key: str
    label: str
    source_file: str
    run: tuple[str, ...]
    compile: tuple[str, ...] | None = None
    source_exts: tuple[str, ...] = ()
    editor_mode: str = "text/plain"
    # Default run limits and the compile step's own (more generous) limits.
    limits: DefaultLimits = field(default_factory=DefaultLimits)
    compile_limits: DefaultLimits = field(
        default_factory=lambda: DefaultLimits(cpu_s=10, wall_s=20, memory_mb=1024, procs=16)
    )
    # Extra address space on top of the memory limit for runtimes that reserve a lot of virtual
    # memory they never touch (V8). The real heap is capped by the runtime's own flag.
    address_space_extra_mb: int = 0
    # Threads the runtime itself starts (V8's and libuv's): added to the process limit, so
    # "processes" keeps meaning the learner's own.
    runtime_tasks: int = 0
    # Host paths bound read-only besides /usr/bin and /usr/lib*, which every box gets.
    readonly_paths: tuple[str, ...] = ("/etc/ld.so.cache",)
    # Environment variables added to the minimal PATH/LANG/HOME.
    env: tuple[tuple[str, str], ...] = ()
    available: bool = True
    missing: str = ""

    @property
    def compiled(self) -> bool:
        """Whether the language has a compile step."""
        return self.compile is not None


def _jdk_config_paths(binary: str) -> tuple[str, ...]:
    """Host directories a JDK reads its configuration from outside ``/usr`` (Debian keeps
    ``lib/jvm.cfg`` and ``conf/`` as symlinks into ``/etc/java-<n>-openjdk``)."""
    real = _resolve(binary)
    if real is None:
        return ()
    home = os.path.dirname(os.path.dirname(real))
    targets = set()
    for link in (os.path.join(home, "lib", "jvm.cfg"), os.path.join(home, "conf")):
        target = os.path.realpath(link)
        if target.startswith("/etc/"):
            targets.add(target if os.path.isdir(target) else os.path.dirname(target))
    return tuple(sorted(targets))


# A JVM for short programs in a small box: one GC thread, the client compiler only, no perf
# data file in /tmp, and small fixed reservations so its address space fits the limit's headroom.
_JVM_FLAGS = (
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:CICompilerCount=1",
    "-XX:-UsePerfData",
    "-XX:ReservedCodeCacheSize=48m",
    "-XX:CompressedClassSpaceSize=64m",
    "-XX:MaxMetaspaceSize=128m",
    "-Xss8m",
)


def _language(key: str, label: str, binary: tuple[str, ...], **fields) -> Language:
    """Build an entry, marking it unavailable (with a reason) when its tool is missing."""
    path = _resolve(*binary)
    if path is None:
        return Language(
            key=key, label=label, available=False, missing=f"{binary[0]} not found", **fields
        )
    subst = {"@BIN": path}
    fields = {
        name: tuple(subst.get(part, part) for part in value)
        if name in ("run", "compile") and value is not None
        else value
        for name, value in fields.items()
    }
    return Language(key=key, label=label, **fields)


LANGUAGES: dict[str, Language] = {
    lang.key: lang
    for lang in (
        _language(
            "python",
            "Python 3",
            ("/usr/bin/python3",),
            source_file="main.py",
            source_exts=(".py",),
            # -E/-s: ignore PYTHON* variables and the user site; -B: never write .pyc files.
            # Not -I: it would drop the script's directory from sys.path (multi-file labs).
            run=("@BIN", "-B", "-E", "-s", "main.py"),
            editor_mode="python",
        ),
        _language(
            "c",
            "C (gcc)",
            ("/usr/bin/gcc", "gcc"),
            source_file="main.c",
            source_exts=(".c",),
            compile=("@BIN", "-O2", "-std=c17", "-Wall", "-o", "main", "{sources}", "-lm"),
            run=("./main",),
            readonly_paths=("/etc/ld.so.cache", "/usr/include"),
            editor_mode="text/x-csrc",
        ),
        _language(
            "cpp",
            "C++ (g++)",
            ("/usr/bin/g++", "g++"),
            source_file="main.cpp",
            source_exts=(".cpp", ".cc"),
            compile=("@BIN", "-O2", "-std=c++17", "-Wall", "-o", "main", "{sources}", "-lm"),
            run=("./main",),
            readonly_paths=("/etc/ld.so.cache", "/usr/include"),
            editor_mode="text/x-c++src",
        ),
        _language(
            "javascript",
            "JavaScript (Node.js)",
            ("/usr/bin/node", "node", "nodejs"),
            source_file="main.js",
            source_exts=(".js",),
            # V8 reserves a large virtual range up front: the heap is capped by its own flag and
            # the address space gets headroom; fewer helper threads keep it inside the procs limit.
            run=(
                "@BIN",
                "--max-old-space-size={heap_mb}",
                "--v8-pool-size=1",
                "--stack-size=4000",
                "main.js",
            ),
            address_space_extra_mb=768,  # node 20 needs ~700 MB of address space to start
            env=(("UV_THREADPOOL_SIZE", "1"), ("NODE_OPTIONS", "")),
            runtime_tasks=8,
            editor_mode="javascript",
        ),
        _language(
            "java",
            "Java (OpenJDK)",
            ("/usr/bin/javac", "javac"),
            source_file="Main.java",
            source_exts=(".java",),
            compile=(
                "@BIN",
                *(f"-J{flag}" for flag in _JVM_FLAGS),
                "-J-Xmx{heap_mb}m",
                "-encoding",
                "UTF-8",
                "-nowarn",
                "{sources}",
            ),
            run=(
                os.path.join(os.path.dirname(_resolve("/usr/bin/javac") or "/"), "java"),
                *_JVM_FLAGS,
                "-Xmx{heap_mb}m",
                "-Xrs",
                "Main",
            ),
            # The JVM reserves code cache, class space and metaspace up front; its heap is
            # capped by -Xmx. Its own threads (GC, compiler, signal, cleaner...) are not the
            # learner's processes.
            limits=DefaultLimits(cpu_s=4, wall_s=10, memory_mb=512),
            compile_limits=DefaultLimits(cpu_s=20, wall_s=30, memory_mb=1024, procs=16),
            address_space_extra_mb=1024,
            runtime_tasks=32,
            readonly_paths=("/etc/ld.so.cache", *_jdk_config_paths("/usr/bin/javac")),
            editor_mode="text/x-java",
        ),
    )
}


def get_language(key: str) -> Language:
    """The language ``key``; raises ``KeyError`` with the known keys when unknown."""
    try:
        return LANGUAGES[key]
    except KeyError:
        raise KeyError(f"unknown language {key!r} (known: {', '.join(LANGUAGES)})") from None


def language_choices() -> list[tuple[str, str]]:
    """(key, label) pairs of the languages installed on this machine, for forms."""
    return [(lang.key, lang.label) for lang in LANGUAGES.values() if lang.available]
