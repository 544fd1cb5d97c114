"""The columns of the two CSV layouts (see :mod:`lms.skills.csvformats`)."""

from __future__ import annotations

FORMATS = ("esco", "moodle")

ESCO_COLUMNS = [
    "conceptType",
    "conceptUri",
    "skillType",
    "preferredLabel",
    "altLabels",
    "description",
    "broaderUri",
    "inScheme",
    "notation",
    "proficiencyLevels",
]
ESCO_REQUIRED = ("conceptUri", "preferredLabel")
ESCO_SKILL, ESCO_GROUP, ESCO_SCHEME = "KnowledgeSkillCompetence", "SkillGroup", "ConceptScheme"
#: The framework a plain ESCO file (without a ConceptScheme row) is imported into.
ESCO_FRAMEWORK = ("esco", "ESCO skills", "http://data.europa.eu/esco/concept-scheme/skills")

MOODLE_COLUMNS = [
    "Parent ID number",
    "ID number",
    "Short name",
    "Description",
    "Description format",
    "Scale values",
    "Scale configuration",
    "Rule type (optional)",
    "Rule outcome (optional)",
    "Rule config (optional)",
    "Cross-referenced competency ID numbers",
    "Exported ID (optional)",
    "Is framework",
    "Taxonomy",
]
MOODLE_EXTRA = ["Alternative labels", "Skill type", "Kind"]
MOODLE_REQUIRED = ("Parent ID number", "ID number", "Short name", "Is framework")
MOODLE_IDNUMBER_MAX = 100
MOODLE_FORMAT_HTML, MOODLE_FORMAT_PLAIN = "1", "2"
