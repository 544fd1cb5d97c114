"""Reading ESCO and Moodle CSV files into framework data, with errors that name the line."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from markupsafe import Markup

from lms.skills.csvformats.columns import (  # noqa: F401
    ESCO_COLUMNS,
    ESCO_FRAMEWORK,
    ESCO_GROUP,
    ESCO_REQUIRED,
    ESCO_SCHEME,
    ESCO_SKILL,
    FORMATS,
    MOODLE_COLUMNS,
    MOODLE_EXTRA,
    MOODLE_FORMAT_HTML,
    MOODLE_FORMAT_PLAIN,
    MOODLE_IDNUMBER_MAX,
    MOODLE_REQUIRED,
)
from lms.skills.frameworks import FrameworkData, FrameworkFileError, LevelData, NodeData
from lms.skills.models import DEFAULT_SCALE, FrameworkSource, SkillKind
from lms.skills.services import slug_for_uri


def decode(raw: bytes) -> str:
    """The text of an uploaded or read file (UTF-8, with or without a byte-order mark)."""
    if not raw.strip():
        raise FrameworkFileError("The file is empty.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise FrameworkFileError(
            "The file is not UTF-8 text: save it as “CSV UTF-8” and try again.", line
        ) from None


def detect_format(text: str) -> str:
    """``esco`` or ``moodle`` from the header line, or a clear error."""
    header = _header(text)
    if "conceptUri" in header or "preferredLabel" in header:
        return "esco"
    if "ID number" in header or "Is framework" in header:
        return "moodle"
    raise FrameworkFileError(
        "Unknown file format: expected ESCO's CSV columns (conceptUri, preferredLabel, ...) or "
        "Moodle's competency framework columns (Parent ID number, ID number, Short name, ...).",
        1,
    )


def _header(text: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(text)))
    except (StopIteration, csv.Error):
        return []


def _rows(text: str, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) for every data row, checking the header and each row's width."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
        for name in required:
            if name not in header:
                raise FrameworkFileError(f"The file has no “{name}” column.", 1)
        line = reader.line_num + 1
        for values in reader:
            if any(v.strip() for v in values):
                if len(values) != len(header):
                    raise FrameworkFileError(
                        f"The row has {len(values)} fields; the header has {len(header)}.", line
                    )
                yield line, dict(zip(header, values, strict=True))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise FrameworkFileError(f"The CSV cannot be read ({exc}).", reader.line_num) from None


def _lines(cell: str) -> list[str]:
    return [" ".join(part.split()) for part in (cell or "").splitlines() if part.strip()]


def _one_line(cell: str) -> str:
    return " ".join((cell or "").split())


def _levels_from_cell(cell: str, line: int) -> list[LevelData]:
    cell = (cell or "").strip()
    if cell.startswith("["):
        try:
            return [
                LevelData(
                    str(lv["name"]).strip(), bool(lv.get("default")), bool(lv.get("proficient"))
                )
                for lv in json.loads(cell)
            ]
        except (ValueError, TypeError, KeyError):
            raise FrameworkFileError("proficiencyLevels is not a list of levels.", line) from None
    names = _lines(cell)
    return [LevelData(name, is_default=i == 0) for i, name in enumerate(names)]


def read_esco(text: str, framework_slug: str | None = None) -> FrameworkData:
    """A framework from ESCO's CSV layout."""
    data: FrameworkData | None = None
    nodes: list[NodeData] = []
    for line, row in _rows(text, ESCO_REQUIRED):
        concept_type = _one_line(row.get("conceptType", ""))
        if concept_type == ESCO_SCHEME:
            if data is not None or nodes:
                raise FrameworkFileError(
                    "A ConceptScheme row must come first, and only once.", line
                )
            name = _one_line(row["preferredLabel"])
            data = FrameworkData(
                slug=_one_line(row.get("notation", "")) or slug_for_uri(name),
                name=name,
                uri=_one_line(row["conceptUri"]),
                description=(row.get("description") or "").strip(),
                levels=_levels_from_cell(row.get("proficiencyLevels", ""), line),
            )
            continue
        if concept_type not in ("", ESCO_SKILL, ESCO_GROUP):
            raise FrameworkFileError(
                f"Unknown conceptType “{concept_type}”: use {ESCO_SKILL}, {ESCO_GROUP} or "
                f"{ESCO_SCHEME}.",
                line,
            )
        nodes.append(
            NodeData(
                uri=_one_line(row["conceptUri"]),
                label=_one_line(row["preferredLabel"]),
                alt_labels=_lines(row.get("altLabels", "")),
                description=(row.get("description") or "").strip(),
                skill_type=_one_line(row.get("skillType", "")) or None,
                kind=SkillKind.CATEGORY if concept_type == ESCO_GROUP else SkillKind.SKILL,
                parent_uri=_one_line(row.get("broaderUri", "")) or None,
                line=line,
            )
        )
    if data is None:
        slug, name, uri = ESCO_FRAMEWORK
        data = FrameworkData(slug=slug, name=name, uri=uri, source=FrameworkSource.ESCO)
    if not data.levels:
        data.levels = [LevelData(n, is_default=i == 0) for i, n in enumerate(DEFAULT_SCALE)]
    if data.uri.startswith("http://data.europa.eu/esco/"):
        data.source = FrameworkSource.ESCO
    if framework_slug:
        data.slug = framework_slug
    data.nodes = nodes
    return data


def read_moodle(text: str, framework_slug: str | None = None) -> FrameworkData:
    """A framework from Moodle's competency-framework CSV (one framework per file)."""
    data: FrameworkData | None = None
    nodes: list[NodeData] = []
    for line, row in _rows(text, MOODLE_REQUIRED):
        if _truthy(row.get("Is framework", "")):
            if data is not None:
                raise FrameworkFileError("The file has a second framework row.", line)
            data = FrameworkData(
                slug=_one_line(row["ID number"]),
                name=_one_line(row["Short name"]),
                uri=_one_line(row.get("Exported ID (optional)", "")),
                description=_moodle_description(row),
                levels=_moodle_scale(row, line),
            )
            data.uri = data.uri or f"urn:educluster:framework:{slug_for_uri(data.slug)}"
            continue
        if data is None:
            raise FrameworkFileError("The framework row (Is framework = 1) must come first.", line)
        values = _one_line(row.get("Scale values", ""))
        if values and [v.strip() for v in values.split(",")] != [lv.name for lv in data.levels]:
            raise FrameworkFileError(
                "This competency has its own scale; a framework here has one scale for all its "
                "skills. Give it the framework's scale or leave Scale values empty.",
                line,
            )
        kind = _one_line(row.get("Kind", "")) or SkillKind.SKILL
        nodes.append(
            NodeData(
                uri=_one_line(row["ID number"]),
                label=_one_line(row["Short name"]),
                alt_labels=_lines(row.get("Alternative labels", "")),
                description=_moodle_description(row),
                skill_type=_one_line(row.get("Skill type", "")) or None,
                kind=kind,
                parent_uri=_one_line(row["Parent ID number"]) or None,
                line=line,
            )
        )
    if data is None:
        raise FrameworkFileError("The file has no framework row (Is framework = 1).")
    if framework_slug:
        data.slug = framework_slug
    data.nodes = nodes
    return data


def _truthy(cell: str) -> bool:
    return cell.strip().lower() in ("1", "true", "yes")


def _moodle_description(row: dict[str, str]) -> str:
    text = row.get("Description") or ""
    if row.get("Description format", "").strip() in ("", MOODLE_FORMAT_HTML, "0"):
        # HTML (or Moodle auto-format) from another site: keep the words, never the markup.
        text = Markup(text).striptags() if "<" in text or "&" in text else text
    return text.strip()


def _moodle_scale(row: dict[str, str], line: int) -> list[LevelData]:
    names = [v.strip() for v in (row.get("Scale values") or "").split(",") if v.strip()]
    if not names:
        raise FrameworkFileError("The framework row has no Scale values.", line)
    levels = [LevelData(name) for name in names]
    config = (row.get("Scale configuration") or "").strip()
    if not config:
        levels[0].is_default = True
        return levels
    try:
        items = json.loads(config)
        for item in items[1:]:
            index = int(item["id"])
            if not 1 <= index <= len(levels):
                raise FrameworkFileError(
                    f"The scale configuration names level {index}; the scale has {len(levels)}.",
                    line,
                )
            levels[index - 1].is_default = bool(int(item.get("scaledefault", 0)))
            levels[index - 1].proficient = bool(int(item.get("proficient", 0)))
    except (ValueError, TypeError, KeyError, IndexError):
        raise FrameworkFileError("The Scale configuration is not valid JSON.", line) from None
    return levels


def read_framework(
    raw: bytes, fmt: str | None = None, framework_slug: str | None = None
) -> FrameworkData:
    """A framework from CSV bytes in ``fmt`` (detected from the header when None)."""
    text = decode(raw)
    if fmt is not None and fmt not in FORMATS:
        raise FrameworkFileError(f"Unknown format “{fmt}”: use esco or moodle.")
    fmt = fmt or detect_format(text)
    return read_esco(text, framework_slug) if fmt == "esco" else read_moodle(text, framework_slug)
