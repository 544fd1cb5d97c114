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
from typing import Any

from lms.domain.models import LEVELS, Visibility
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


# --- manifest schema ---------------------------------------------------------------------------
def _fail(where: str, what: str) -> None:
    raise ArchiveError(f"manifest.json: {where} {what}.")


def _obj(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        _fail(where, "must be an object")
    return value


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        _fail(where, "must be a list")
    return value


def _str(value: Any, where: str, max_len: int = 200, empty: bool = True) -> str:
    if not isinstance(value, str) or len(value) > max_len or (not empty and not value.strip()):
        _fail(
            where,
            f"must be {'non-empty ' if not empty else ''}text of at most {max_len} characters",
        )
    return value


def _num(value: Any, where: str, lo: float, hi: float, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        _fail(where, f"must be a number from {lo:g} to {hi:g}")


def _check_course(course: dict, files: dict[str, bytes]) -> None:
    _str(course.get("title"), "course.title", 200, empty=False)
    _str(course.get("slug", ""), "course.slug", 120)
    if course.get("level") not in LEVELS:
        _fail("course.level", f"must be one of {', '.join(LEVELS)}")
    _num(course.get("estimated_hours"), "course.estimated_hours", 0, 10000)
    _str(course.get("language", "en"), "course.language", 10)
    if course.get("visibility", "partners") not in (Visibility.PARTNERS, Visibility.CLUSTER):
        _fail("course.visibility", "must be “partners” or “cluster”")
    if course.get("completion_mode", "all") not in ("all", "n_of"):
        _fail("course.completion_mode", "must be “all” or “n_of”")
    _num(course.get("completion_count"), "course.completion_count", 0, 10000, optional=True)
    _num(course.get("completion_min_grade"), "course.completion_min_grade", 0, 100, optional=True)
    summary = course.get("summary_file")
    if summary is not None and summary not in files:
        _fail("course.summary_file", f"names “{summary}”, which is not in the archive")


def _check_activity(act: dict, where: str, keys: set[str]) -> None:
    registry = activity_registry()
    key = _str(act.get("key"), f"{where}.key", 40, empty=False)
    if key in keys:
        _fail(f"{where}.key", f"“{key}” is used twice")
    keys.add(key)
    type_key = _str(act.get("type"), f"{where}.type", 40, empty=False)
    atype = registry.get(type_key)
    if atype is None:
        raise ArchiveError(
            f"The archive uses the activity type “{type_key}”, which is not installed here."
        )
    _str(act.get("title"), f"{where}.title", 200, empty=False)
    if act.get("completion_rule") not in atype.completion_rules:
        _fail(f"{where}.completion_rule", f"must be one of {', '.join(atype.completion_rules)}")
    _num(act.get("pass_mark"), f"{where}.pass_mark", 0, 100, optional=True)
    _num(act.get("weight", 1), f"{where}.weight", 0, 1000)
    if not isinstance(act.get("required", True), bool):
        _fail(f"{where}.required", "must be true or false")
    available = act.get("available_from")
    if available is not None:
        try:
            datetime.fromisoformat(_str(available, f"{where}.available_from", 40))
        except ValueError:
            _fail(f"{where}.available_from", "must be an ISO date and time")
    _obj(act.get("content", {}), f"{where}.content")
    for j, cond in enumerate(_list(act.get("conditions", []), f"{where}.conditions")):
        cw = f"{where}.conditions[{j}]"
        _obj(cond, cw)
        if cond.get("kind") not in ("completed", "grade"):
            _fail(f"{cw}.kind", "must be “completed” or “grade”")
        _str(cond.get("activity"), f"{cw}.activity", 40, empty=False)
        _num(cond.get("min_grade"), f"{cw}.min_grade", 0, 100, optional=True)
    _check_outcomes(act.get("outcomes", []), f"{where}.outcomes")


def _check_outcomes(value: Any, where: str) -> None:
    """Outcomes: a skill URI with its label, the framework URI, a level rank (and name)."""
    seen: set[str] = set()
    for i, item in enumerate(_list(value, where)):
        ow = f"{where}[{i}]"
        _obj(item, ow)
        uri = _str(item.get("skill"), f"{ow}.skill", 255, empty=False)
        if uri in seen:
            _fail(f"{ow}.skill", f"“{uri}” is listed twice")
        seen.add(uri)
        _str(item.get("label"), f"{ow}.label", 255, empty=False)
        _str(item.get("framework", ""), f"{ow}.framework", 255)
        _str(item.get("level_name", ""), f"{ow}.level_name", 60)
        level = item.get("level")
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 20:
            _fail(f"{ow}.level", "must be a whole number from 1 to 20")


def check_manifest(manifest: Any, files: dict[str, bytes]) -> None:
    """Validate the manifest's shape and references; raises ArchiveError naming the problem."""
    from courses.services import PARTNER_ROLES

    _obj(manifest, "the top level")
    if manifest.get("format") != FORMAT:
        raise ArchiveError("This is not an EduCluster course archive (unknown “format”).")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ArchiveError(
            f"Unsupported archive format version {version!r}: this site reads version {FORMAT_VERSION}."
        )
    _check_course(_obj(manifest.get("course"), "course"), files)
    for i, partner in enumerate(_list(manifest.get("partners", []), "partners")):
        _obj(partner, f"partners[{i}]")
        _str(partner.get("organization"), f"partners[{i}].organization", 80, empty=False)
        if partner.get("role") not in PARTNER_ROLES:
            _fail(f"partners[{i}].role", f"must be one of {', '.join(PARTNER_ROLES)}")
    for i, skill in enumerate(_list(manifest.get("skills", []), "skills")):
        _str(skill, f"skills[{i}]", 80, empty=False)
    _check_outcomes(manifest.get("outcomes", []), "outcomes")
    for i, att in enumerate(_list(manifest.get("attachments", []), "attachments")):
        _obj(att, f"attachments[{i}]")
        path = _str(att.get("path"), f"attachments[{i}].path", 300, empty=False)
        if path not in files:
            _fail(f"attachments[{i}].path", f"names “{path}”, which is not in the archive")
        _str(att.get("filename"), f"attachments[{i}].filename", 255, empty=False)
    registry = activity_registry()
    for type_key in _obj(manifest.get("course_data", {}), "course_data"):
        if type_key not in registry:
            raise ArchiveError(
                f"The archive has course data of the activity type “{type_key}”, "
                "which is not installed here."
            )
    keys: set[str] = set()
    for i, module in enumerate(_list(manifest.get("modules", []), "modules")):
        _obj(module, f"modules[{i}]")
        _str(module.get("title"), f"modules[{i}].title", 200, empty=False)
        _str(module.get("summary", ""), f"modules[{i}].summary", 20000)
        for j, act in enumerate(_list(module.get("activities", []), f"modules[{i}].activities")):
            _check_activity(
                _obj(act, f"modules[{i}].activities[{j}]"), f"modules[{i}].activities[{j}]", keys
            )
    for module in manifest.get("modules", []):
        for act in module.get("activities", []):
            for cond in act.get("conditions", []):
                if cond["activity"] not in keys or cond["activity"] == act["key"]:
                    _fail(
                        f"activity {act['key']} condition",
                        f"names unknown activity “{cond['activity']}”",
                    )
