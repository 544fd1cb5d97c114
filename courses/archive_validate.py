"""Reading a course archive safely: every check runs before anything is written.

Refused: files that are not zips, path traversal (``../``, absolute paths, backslashes, drive
letters), symlinks, encrypted members, zip bombs (total size and per-member compression ratio),
too many files, malformed or unknown manifests, and activity types this site does not have.
"""

from __future__ import annotations

import io
import json
import re
import stat
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from lms.errors import DomainError
from lms.plugins import activity_registry

FORMAT = "educluster-course"
FORMAT_VERSION = 1
MAX_FILES = 2000
MAX_TOTAL_BYTES = 100 * 1024 * 1024
MAX_RATIO = 100
RATIO_MIN_BYTES = 64 * 1024  # tiny files compress absurdly well and harm nobody
MANIFEST = "manifest.json"
DRIVE_RE = re.compile(r"^[A-Za-z]:")


class ArchiveError(DomainError):
    """The archive was refused; the message says why and nothing was written."""


def check_member_name(info: zipfile.ZipInfo) -> None:
    """Refuse traversal, absolute paths, backslashes, drive letters, symlinks, encryption."""
    name = info.filename
    if "\\" in name:
        raise ArchiveError(f"Refused: “{name}” uses backslashes in its path.")
    if name.startswith("/") or DRIVE_RE.match(name):
        raise ArchiveError(f"Refused: “{name}” is an absolute path.")
    parts = name.rstrip("/").split("/")
    if any(p in ("..", ".") for p in parts) or "\x00" in name or "" in parts:
        raise ArchiveError(f"Refused: “{name}” tries to leave the archive (path traversal).")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ArchiveError(f"Refused: “{name}” is a symbolic link.")
    if info.flag_bits & 0x1:
        raise ArchiveError(f"Refused: “{name}” is encrypted.")


def read_archive(data: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Open and check an archive; returns (manifest, files by path) or raises ArchiveError."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ArchiveError("This is not a course archive: the file is not a valid .zip.") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_FILES:
            raise ArchiveError(
                f"Refused: the archive holds {len(infos)} files; the limit is {MAX_FILES}."
            )
        declared = 0
        for info in infos:
            check_member_name(info)
            declared += info.file_size
            if declared > MAX_TOTAL_BYTES:
                raise ArchiveError("Refused: the archive unpacks to more than 100 MB.")
            if info.file_size > RATIO_MIN_BYTES and info.file_size > MAX_RATIO * max(
                info.compress_size, 1
            ):
                raise ArchiveError(
                    f"Refused: “{info.filename}” is compressed more than {MAX_RATIO}:1 (zip bomb)."
                )
        files: dict[str, bytes] = {}
        total = 0
        for info in infos:
            if info.is_dir():
                continue
            try:
                with zf.open(info) as fh:
                    content = fh.read(info.file_size + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError):
                raise ArchiveError(f"Refused: “{info.filename}” is damaged.") from None
            total += len(content)
            if len(content) > info.file_size or total > MAX_TOTAL_BYTES:
                raise ArchiveError(f"Refused: “{info.filename}” is larger than it claims.")
            files[info.filename] = content
    raw = files.pop(MANIFEST, None)
    if raw is None:
        raise ArchiveError("This is not a course archive: manifest.json is missing.")
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArchiveError(f"manifest.json is not valid JSON ({exc}).") from None
    check_manifest(manifest, files)
    return manifest, files


# --- manifest -----------------------------------------------------------------------------------
#: The manifest's shape, as a JSON Schema that also documents the format for other tools.
SCHEMA_PATH = Path(__file__).with_name("archive_manifest.schema.json")
_VALIDATOR = Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
_TYPE_WORDS = {
    "array": "a list", "object": "an object", "string": "text", "number": "a number",
    "integer": "a whole number", "boolean": "true or false",
}  # fmt: skip


def _fail(where: str, what: str) -> None:
    raise ArchiveError(f"manifest.json: {where} {what}.")


def _where(path) -> str:
    """``modules[0].activities[1].title`` from a JSON path."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the top level"


def _explain(error: ValidationError) -> tuple[str, str]:
    """(where, what) in words a course author understands."""
    where, schema, kind = _where(error.absolute_path), error.schema, error.validator
    if kind == "required":
        missing = error.message.split("'")[1]
        return (f"{where}.{missing}" if error.absolute_path else missing), "is missing"
    if kind == "type":
        types = [
            t
            for t in ([schema["type"]] if isinstance(schema["type"], str) else schema["type"])
            if t != "null"
        ]
        return where, "must be " + " or ".join(_TYPE_WORDS.get(t, t) for t in types)
    if kind == "enum":
        return where, "must be one of " + ", ".join(str(v) for v in schema["enum"] if v is not None)
    if kind in ("minLength", "pattern"):
        return where, "must not be empty"
    if kind == "maxLength":
        return where, f"must be text of at most {schema['maxLength']} characters"
    if kind in ("minimum", "maximum"):
        return where, f"must be a number from {schema['minimum']:g} to {schema['maximum']:g}"
    return where, error.message


def check_manifest(manifest: Any, files: dict[str, bytes]) -> None:
    """Validate the manifest's shape (the JSON Schema) and what a schema cannot express:
    installed activity types, each type's completion rules, unique activity keys, conditions
    that name activities of the archive, files that are in it. Raises ArchiveError naming it."""
    if not isinstance(manifest, dict):
        _fail("the top level", "must be an object")
    if manifest.get("format") != FORMAT:
        raise ArchiveError("This is not an EduCluster course archive (unknown “format”).")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ArchiveError(
            f"Unsupported archive format version {version!r}: this site reads version {FORMAT_VERSION}."
        )
    error = best_match(_VALIDATOR.iter_errors(manifest))
    if error is not None:
        _fail(*_explain(error))
    _check_references(manifest, files)
    _check_activity_types(manifest)


def _check_references(manifest: dict, files: dict[str, bytes]) -> None:
    """Files the manifest names are in the archive; activity keys are unique; conditions name
    another activity of the archive; outcomes name a skill once."""
    summary = manifest["course"].get("summary_file")
    if summary is not None and summary not in files:
        _fail("course.summary_file", f"names “{summary}”, which is not in the archive")
    for i, att in enumerate(manifest.get("attachments", [])):
        if att["path"] not in files:
            _fail(f"attachments[{i}].path", f"names “{att['path']}”, which is not in the archive")
    _unique_skills(manifest.get("outcomes", []), "outcomes")
    keys: set[str] = set()
    for i, module in enumerate(manifest.get("modules", [])):
        for j, act in enumerate(module.get("activities", [])):
            where = f"modules[{i}].activities[{j}]"
            if act["key"] in keys:
                _fail(f"{where}.key", f"“{act['key']}” is used twice")
            keys.add(act["key"])
            _unique_skills(act.get("outcomes", []), f"{where}.outcomes")
            available = act.get("available_from")
            if available is not None:
                try:
                    datetime.fromisoformat(available)
                except ValueError:
                    _fail(f"{where}.available_from", "must be an ISO date and time")
    for module in manifest.get("modules", []):
        for act in module.get("activities", []):
            for cond in act.get("conditions", []):
                if cond["activity"] not in keys or cond["activity"] == act["key"]:
                    _fail(
                        f"activity {act['key']} condition",
                        f"names unknown activity “{cond['activity']}”",
                    )


def _unique_skills(outcomes: list[dict], where: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(outcomes):
        if item["skill"] in seen:
            _fail(f"{where}[{i}].skill", f"“{item['skill']}” is listed twice")
        seen.add(item["skill"])


def _check_activity_types(manifest: dict) -> None:
    """Every activity type (and course data) is installed here, with a rule it supports."""
    registry = activity_registry()
    for type_key in manifest.get("course_data", {}):
        if type_key not in registry:
            raise ArchiveError(
                f"The archive has course data of the activity type “{type_key}”, "
                "which is not installed here."
            )
    for i, module in enumerate(manifest.get("modules", [])):
        for j, act in enumerate(module.get("activities", [])):
            atype = registry.get(act["type"])
            if atype is None:
                raise ArchiveError(
                    f"The archive uses the activity type “{act['type']}”, which is not installed here."
                )
            if act["completion_rule"] not in atype.completion_rules:
                _fail(
                    f"modules[{i}].activities[{j}].completion_rule",
                    f"must be one of {', '.join(atype.completion_rules)}",
                )
