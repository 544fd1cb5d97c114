"""Where a program's output differs from the expected output, for the results table (pure).

The results show one column of lines, full width: a line both outputs share once, and where
they differ the expected line and the program's line one under the other, with the differing
characters marked. Long runs of matching lines fold to a count, so a difference at line 300 is
on screen, not hidden at the bottom of a scroll box.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

CONTEXT = 2  # matching lines kept around each difference
MAX_ROWS = 400
# Below this similarity two lines have nothing in common worth marking character by character:
# the whole line is marked instead of a confetti of single characters.
WHOLE_LINE_BELOW = 0.4


@dataclass(frozen=True)
class Line:
    """One line of one output: its number (from 1) and its text as (text, marked) pieces."""

    number: int
    pieces: tuple[tuple[str, bool], ...]

    @property
    def text(self) -> str:
        """The line's full text without the change marks."""
        return "".join(text for text, _ in self.pieces)


@dataclass(frozen=True)
class Row:
    """``same``: a line of both outputs; ``changed``: the expected and the actual line (either
    may be None: a line only one output has); ``skip``: ``count`` matching lines folded;
    ``more``: ``count`` lines past what is shown."""

    kind: str
    expected: Line | None = None
    actual: Line | None = None
    count: int = 0
    # The first row of a run of lines only one output has: the other side says so once.
    opens_gap: bool = False


@dataclass(frozen=True)
class OutputDiff:
    """Side-by-side rows of expected and actual output, with the number that differ."""

    rows: list[Row] = field(default_factory=list)
    changed: int = 0  # rows that differ

    def __bool__(self) -> bool:
        return bool(self.rows)


def _plain(number: int, text: str, marked: bool) -> Line:
    return Line(number, ((text, marked),) if text else ())


def _mark_pair(e_no: int, e: str, a_no: int, a: str) -> tuple[Line, Line]:
    """The two lines with the characters that differ marked on each side."""
    matcher = difflib.SequenceMatcher(a=e, b=a, autojunk=False)
    if matcher.ratio() < WHOLE_LINE_BELOW:
        return _plain(e_no, e, True), _plain(a_no, a, True)
    exp: list[tuple[str, bool]] = []
    act: list[tuple[str, bool]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if i2 > i1:
            exp.append((e[i1:i2], tag != "equal"))
        if j2 > j1:
            act.append((a[j1:j2], tag != "equal"))
    return Line(e_no, tuple(exp)), Line(a_no, tuple(act))


def _all_rows(exp: list[str], act: list[str]) -> list[Row]:
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(a=exp, b=act, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [Row("same", _plain(i + 1, exp[i], False)) for i in range(i1, i2)]
            continue
        paired = min(i2 - i1, j2 - j1)
        for k in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + k, j1 + k
            if k < paired:
                e_line, a_line = _mark_pair(i + 1, exp[i], j + 1, act[j])
            else:
                e_line = _plain(i + 1, exp[i], True) if i < i2 else None
                a_line = _plain(j + 1, act[j], True) if j < j2 else None
            rows.append(Row("changed", e_line, a_line, opens_gap=k == paired))
    return rows


def _fold(rows: list[Row], context: int) -> list[Row]:
    """Keep ``context`` matching lines around each change; fold the rest into counts."""
    changed = [n for n, row in enumerate(rows) if row.kind == "changed"]
    keep = {n for c in changed for n in range(c - context, c + context + 1)}
    out: list[Row] = []
    folded = 0
    for n, row in enumerate(rows):
        if n in keep or row.kind == "changed":
            if folded:
                out.append(_skip_or_line(rows, n, folded))
                folded = 0
            out.append(row)
        else:
            folded += 1
    if folded:
        out.append(_skip_or_line(rows, len(rows), folded))
    return out


def _skip_or_line(rows: list[Row], end: int, folded: int) -> Row:
    # Folding one line saves nothing: show it.
    return rows[end - 1] if folded == 1 else Row("skip", count=folded)


def diff_output(
    expected: str | None, actual: str | None, context: int = CONTEXT, max_rows: int = MAX_ROWS
) -> OutputDiff:
    """The rows to show for a failed test's output (empty when there is nothing to compare)."""
    if expected is None or actual is None:
        return OutputDiff()
    rows = _all_rows(expected.splitlines(), actual.splitlines())
    changed = sum(1 for row in rows if row.kind == "changed")
    if not changed:
        return OutputDiff()  # same lines (line endings or a trailing newline): nothing to mark
    rows = _fold(rows, context)
    if len(rows) > max_rows:
        rest = sum(row.count or 1 for row in rows[max_rows:])
        rows = [*rows[:max_rows], Row("more", count=rest)]
    return OutputDiff(rows, changed)
