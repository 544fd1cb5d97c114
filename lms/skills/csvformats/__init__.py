"""Skill frameworks as CSV: ESCO's layout and Moodle's competency-framework layout.

**ESCO** (the columns of ESCO's ``skills_en.csv``): ``conceptType, conceptUri, skillType,
preferredLabel, altLabels`` (one per line inside the cell), ``description``, plus ``broaderUri``
(the parent, as in ESCO's ``broaderRelationsSkillPillar.csv``) and ``inScheme``. Categories are
``SkillGroup`` rows; an optional first ``ConceptScheme`` row names the framework (``notation`` is
its id here, ``proficiencyLevels`` its scale, one level per line).

**Moodle** (``tool_lpimportcsv``): ``Parent ID number, ID number, Short name, Description,
Description format, Scale values, Scale configuration, Rule type (optional), Rule outcome
(optional), Rule config (optional), Cross-referenced competency ID numbers, Exported ID
(optional), Is framework, Taxonomy``. The framework row carries the scale; each competency's ID
number is the skill URI. Three trailing columns (``Alternative labels, Skill type, Kind``), which
Moodle's importer ignores, keep what Moodle has no place for, so a round trip loses nothing.
"""

from __future__ import annotations

from lms.skills.csvformats.columns import FORMATS
from lms.skills.csvformats.reading import (
    decode,
    detect_format,
    read_esco,
    read_framework,
    read_moodle,
)
from lms.skills.csvformats.writing import write_esco, write_framework, write_moodle

__all__ = [
    "FORMATS",
    "decode",
    "detect_format",
    "read_esco",
    "read_framework",
    "read_moodle",
    "write_esco",
    "write_framework",
    "write_moodle",
]
