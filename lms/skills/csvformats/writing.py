"""Writing framework data as ESCO or Moodle CSV (lossless round trips)."""

from __future__ import annotations

import csv
import io
import json

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
from lms.skills.models import SkillKind


def _default_pattern(levels: list[LevelData]) -> bool:
    return all(lv.is_default == (i == 0) and not lv.proficient for i, lv in enumerate(levels))


def write_esco(data: FrameworkData) -> str:
    """``data`` in ESCO's layout, with its ConceptScheme row first."""
    out = io.StringIO()
    writer = csv.DictWriter(out, ESCO_COLUMNS, lineterminator="\n")
    writer.writeheader()
    levels = (
        "\n".join(lv.name for lv in data.levels)
        if _default_pattern(data.levels)
        else json.dumps(
            [
                {"name": lv.name, "default": lv.is_default, "proficient": lv.proficient}
                for lv in data.levels
            ]
        )
    )
    writer.writerow(
        {
            "conceptType": ESCO_SCHEME,
            "conceptUri": data.uri,
            "preferredLabel": data.name,
            "description": data.description,
            "notation": data.slug,
            "proficiencyLevels": levels,
        }
    )
    for node in data.nodes:
        writer.writerow(
            {
                "conceptType": ESCO_GROUP if node.kind == SkillKind.CATEGORY else ESCO_SKILL,
                "conceptUri": node.uri,
                "skillType": node.skill_type or "",
                "preferredLabel": node.label,
                "altLabels": "\n".join(node.alt_labels),
                "description": node.description,
                "broaderUri": node.parent_uri or "",
                "inScheme": data.uri,
            }
        )
    return out.getvalue()


def write_moodle(data: FrameworkData) -> str:
    """``data`` in Moodle's competency-framework layout (importable by tool_lpimportcsv)."""
    for level in data.levels:
        if "," in level.name:
            raise FrameworkFileError(
                f"Moodle scales cannot hold commas: rename the level “{level.name}” first."
            )
    for node in data.nodes:
        if len(node.uri) > MOODLE_IDNUMBER_MAX:
            raise FrameworkFileError(
                f"Moodle ID numbers hold at most {MOODLE_IDNUMBER_MAX} characters; the URI of "
                f"“{node.label}” has {len(node.uri)}."
            )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MOODLE_COLUMNS + MOODLE_EXTRA)
    config = [{"scaleid": "0"}] + [
        {"id": i, "scaledefault": int(lv.is_default), "proficient": int(lv.proficient)}
        for i, lv in enumerate(data.levels, 1)
    ]
    depth = _depths(data.nodes)
    taxonomy = ",".join(
        "domain" if all(data.nodes[i].kind == SkillKind.CATEGORY for i in idx) else "competency"
        for _, idx in sorted(_by_depth(depth).items())
    )
    writer.writerow(
        ["", data.slug, data.name, data.description, MOODLE_FORMAT_PLAIN,
         ",".join(lv.name for lv in data.levels), json.dumps(config), "", "", "", "",
         data.uri, "1", taxonomy, "", "", ""]
    )  # fmt: skip
    for node in data.nodes:
        writer.writerow(
            [node.parent_uri or "", node.uri, node.label, node.description, MOODLE_FORMAT_PLAIN,
             "", "", "", "", "null", "", "", "0", "",
             "\n".join(node.alt_labels), node.skill_type or "", node.kind]
        )  # fmt: skip
    return out.getvalue()


def _depths(nodes: list[NodeData]) -> list[int]:
    depth_of: dict[str, int] = {}
    result = []
    for node in nodes:  # parents come before their children
        depth = depth_of.get(node.parent_uri, -1) + 1 if node.parent_uri else 0
        depth_of[node.uri] = depth
        result.append(depth)
    return result


def _by_depth(depths: list[int]) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = {}
    for i, depth in enumerate(depths):
        groups.setdefault(depth, []).append(i)
    return groups


def write_framework(data: FrameworkData, fmt: str) -> str:
    """``data`` as CSV text in ``fmt``."""
    if fmt not in FORMATS:
        raise FrameworkFileError(f"Unknown format “{fmt}”: use esco or moodle.")
    return write_esco(data) if fmt == "esco" else write_moodle(data)
