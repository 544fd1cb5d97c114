"""A line diff of two lesson revisions as rows for a table (pure, no HTML: templates escape)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class DiffRow:
    """One table row: ``kind`` is "same", "added", "removed" or "gap" (skipped unchanged lines)."""

    kind: str
    old_number: int | None
    new_number: int | None
    text: str


@dataclass(frozen=True)
class DiffSummary:
    """Line diff of two lesson revisions with added and removed counts."""

    rows: list[DiffRow]
    added: int
    removed: int

    @property
    def identical(self) -> bool:
        """Whether the two revisions have the same text."""
        return self.added == 0 and self.removed == 0


def diff_lines(old: str, new: str, context: int = 3) -> DiffSummary:
    """Rows describing how ``new`` differs from ``old``, with ``context`` unchanged lines around
    each change and a "gap" row where unchanged lines are skipped."""
    a = (old or "").splitlines()
    b = (new or "").splitlines()
    rows: list[DiffRow] = []
    added = removed = 0
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    groups = list(matcher.get_grouped_opcodes(context)) if a != b else []
    for index, group in enumerate(groups):
        first = group[0]
        if index > 0 or first[1] > 0 or first[3] > 0:
            rows.append(DiffRow("gap", None, None, ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for offset, line in enumerate(a[i1:i2]):
                    rows.append(DiffRow("same", i1 + offset + 1, j1 + offset + 1, line))
                continue
            if tag in ("replace", "delete"):
                for offset, line in enumerate(a[i1:i2]):
                    rows.append(DiffRow("removed", i1 + offset + 1, None, line))
                    removed += 1
            if tag in ("replace", "insert"):
                for offset, line in enumerate(b[j1:j2]):
                    rows.append(DiffRow("added", None, j1 + offset + 1, line))
                    added += 1
    if groups:
        _tag, _i1, i2, _j1, j2 = groups[-1][-1]
        if i2 < len(a) or j2 < len(b):
            rows.append(DiffRow("gap", None, None, ""))
    return DiffSummary(rows, added, removed)
