"""Check a Jobe ``run_spec`` and turn it into a :class:`RunSpec` (pure: no I/O, no app).

Every refusal is a :class:`JobeError` whose message says what to fix; nothing is written before
a request has passed here, so a bad request leaves nothing behind.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Jobe's language ids and the lab language that runs each.
JOBE_LANGUAGES = {
    "python3": "python",
    "c": "c",
    "cpp": "cpp",
    "nodejs": "javascript",
    "java": "java",
}
RUN_SPEC_KEYS = {
    "language_id",
    "sourcecode",
    "sourcefilename",
    "input",
    "file_list",
    "parameters",
    "debug",
}
# Numeric parameters: (lowest, highest); memorylimit 0 means "the language's default", as in Jobe.
NUMBER_PARAMETERS: dict[str, tuple[float, float]] = {
    "cputime": (0.1, 30.0),  # seconds
    "memorylimit": (0, 2048),  # MB
    "numprocs": (1, 64),
    "disklimit": (1, 64),  # MB a run may write
    "streamsize": (1, 4),  # MB of stdout/stderr
}
ARG_PARAMETERS = ("compileargs", "linkargs", "interpreterargs", "runargs")
MAX_ARGS = 64
MAX_ARG_CHARS = 256
FILE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
MAX_FILES = 32
# The public class a Java file declares, which names its file (Jobe does the same).
JAVA_CLASS = re.compile(r"(?:^|\s)public\s+(?:(?:final|abstract)\s+)*class\s+([A-Za-z_$][\w$]*)")


class JobeError(Exception):
    """A request Jobe would refuse; ``status`` is the HTTP code, the message is for the author."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad(message: str) -> JobeError:
    """A 400 refusal with ``message``."""
    return JobeError(400, message)


@dataclass(frozen=True)
class RunSpec:
    """A checked run request."""

    jobe_language: str
    language: str  # the lab language key
    sourcecode: str
    sourcefilename: str
    stdin: str = ""
    file_list: tuple[tuple[str, str], ...] = ()
    parameters: Mapping[str, Any] = field(default_factory=dict)
    debug: bool = False

    @property
    def main_class(self) -> str:
        """Java: the class to run (the file's stem)."""
        return self.sourcefilename.rsplit(".", 1)[0]


def _text(run_spec: Mapping, key: str, limit_bytes: int, required: bool = False) -> str:
    value = run_spec.get(key)
    if value is None:
        if required:
            raise bad(f"run_spec.{key} is required.")
        return ""
    if not isinstance(value, str):
        raise bad(f"run_spec.{key} must be a string.")
    if "\x00" in value and key != "input":
        raise bad(f"run_spec.{key} must not contain NUL characters.")
    if len(value) > limit_bytes or len(value.encode("utf-8", "surrogatepass")) > limit_bytes:
        raise bad(f"run_spec.{key} is larger than {limit_bytes // 1024} KB.")
    return value


def check_file_name(name: Any, what: str) -> str:
    """A plain file name in the run's directory: no path, no parent, no hidden or odd name."""
    if not isinstance(name, str) or not FILE_NAME.match(name) or ".." in name:
        raise bad(
            f"{what} {name!r} is not a plain file name (letters, digits, '.', '_' and '-'; "
            "no directories, no absolute paths, no '..')."
        )
    return name


def _number(name: str, value: Any) -> float:
    lo, hi = NUMBER_PARAMETERS[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise bad(f"parameters.{name} must be a number.")
    if not lo <= value <= hi:
        raise bad(f"parameters.{name} must be between {lo:g} and {hi:g}.")
    return value


def _args(name: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):  # Jobe also takes one space-separated string
        value = value.split()
    if not isinstance(value, list) or len(value) > MAX_ARGS:
        raise bad(f"parameters.{name} must be a list of at most {MAX_ARGS} strings.")
    for arg in value:
        if not isinstance(arg, str) or len(arg) > MAX_ARG_CHARS or "\x00" in arg:
            raise bad(f"parameters.{name} must hold strings of at most {MAX_ARG_CHARS} characters.")
    return tuple(value)


def check_parameters(raw: Any) -> dict[str, Any]:
    """Known parameters with values in range; anything else is refused."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise bad("run_spec.parameters must be an object.")
    unknown = set(raw) - set(NUMBER_PARAMETERS) - set(ARG_PARAMETERS)
    if unknown:
        known = ", ".join(sorted({*NUMBER_PARAMETERS, *ARG_PARAMETERS}))
        raise bad(f"Unknown parameter(s) {', '.join(sorted(unknown))}; known: {known}.")
    params: dict[str, Any] = {}
    for name, value in raw.items():
        params[name] = _number(name, value) if name in NUMBER_PARAMETERS else _args(name, value)
    return params


def _file_list(raw: Any) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_FILES:
        raise bad(
            f"run_spec.file_list must be a list of at most {MAX_FILES} [file_id, name] pairs."
        )
    pairs = []
    for item in raw:
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise bad("Each file_list entry must be a [file_id, file_name] pair.")
        file_id, name = item
        if not isinstance(file_id, str) or not FILE_ID.match(file_id):
            raise bad(f"file_list names an invalid file id {file_id!r}.")
        pairs.append((file_id, check_file_name(name, "file_list file name")))
    names = [name for _, name in pairs]
    if len(set(names)) != len(names):
        raise bad("file_list names the same file twice.")
    return tuple(pairs)


def default_file_name(jobe_language: str, sourcecode: str, lab_default: str) -> str:
    """The source's file name when the request gives none (Java: its public class, as Jobe)."""
    if jobe_language == "java":
        match = JAVA_CLASS.search(sourcecode)
        return f"{match.group(1) if match else 'Main'}.java"
    return lab_default


def parse_run_spec(
    body: Any,
    *,
    available: Mapping[str, str],
    default_files: Mapping[str, str],
    max_source_bytes: int,
) -> RunSpec:
    """Check a decoded request body; ``available`` maps Jobe ids to installed lab languages."""
    if not isinstance(body, dict) or not isinstance(body.get("run_spec"), dict):
        raise bad('The body must be a JSON object with a "run_spec" object.')
    run_spec = body["run_spec"]
    unknown = set(run_spec) - RUN_SPEC_KEYS
    if unknown:
        raise bad(f"Unknown run_spec field(s): {', '.join(sorted(unknown))}.")
    language_id = run_spec.get("language_id")
    if language_id is None or language_id == "":
        raise bad("run_spec.language_id is required.")
    if not isinstance(language_id, str) or language_id not in available:
        raise bad(
            f"Language {language_id!r} is not known here; known: {', '.join(sorted(available))}."
        )
    sourcecode = _text(run_spec, "sourcecode", max_source_bytes, required=True)
    stdin = _text(run_spec, "input", max_source_bytes)
    filename = run_spec.get("sourcefilename")
    if filename in (None, "") or (language_id == "java" and JAVA_CLASS.search(sourcecode)):
        # javac insists that a public class lives in a file of its name, whatever was sent.
        filename = default_file_name(language_id, sourcecode, default_files[language_id])
    filename = check_file_name(filename, "sourcefilename")
    debug = run_spec.get("debug", False)
    if not isinstance(debug, bool):
        raise bad("run_spec.debug must be true or false.")
    files = _file_list(run_spec.get("file_list"))
    if filename in {name for _, name in files}:
        raise bad(f"file_list overwrites the source file {filename!r}.")
    return RunSpec(
        jobe_language=language_id,
        language=available[language_id],
        sourcecode=sourcecode,
        sourcefilename=filename,
        stdin=stdin,
        file_list=files,
        parameters=check_parameters(run_spec.get("parameters")),
        debug=debug,
    )
