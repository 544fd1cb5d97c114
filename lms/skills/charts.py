"""The skills gap as a chart: geometry of server-rendered SVG bars (no JavaScript, no CDN).

Each demanded skill and level is one horizontal bar as long as its demand, split into the people
who already hold the level (supply), those in training (pipeline) and the rest (the gap). The
arithmetic lives here, as a pure function, so the template only draws rectangles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lms.skills.gap import GapRow

#: Bars shown: the largest gaps (the full list is the table next to the chart).
CHART_ROWS = 10
#: Drawing units of the SVG viewBox: bar area, figure column, row height (the label sits above
#: its bar, so long ESCO labels need no column of their own).
BAR_WIDTH, FIGURE_WIDTH, ROW_HEIGHT = 600.0, 120.0, 46.0
LABEL_WIDTH = 0.0  # where the bars start
LABEL_CHARS = 80


@dataclass(frozen=True)
class Segment:
    """One coloured part of a bar."""

    kind: str  # "supply", "pipeline" or "gap"
    people: int
    x: float
    width: float


@dataclass(frozen=True)
class GapBar:
    """One demanded skill and level, drawn."""

    label: str  # shortened to fit the label column
    title: str  # the full wording, for the tooltip and screen readers
    y: float
    segments: tuple[Segment, ...]
    row: GapRow


@dataclass(frozen=True)
class GapChart:
    """The bars and the size of the drawing."""

    bars: tuple[GapBar, ...]
    width: float
    height: float
    label_width: float
    bar_x_end: float
    row_height: float


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def gap_chart(rows: Sequence[GapRow], limit: int = CHART_ROWS) -> GapChart:
    """The ``limit`` largest gaps (then largest demand) as bars on one scale: the largest
    demand shown spans the whole bar area."""
    chosen = sorted(rows, key=lambda r: (-r.gap, -r.demand, r.label.lower(), r.level))[:limit]
    longest = max((r.demand for r in chosen), default=0) or 1
    bars = []
    for i, r in enumerate(chosen):
        # Supply can exceed demand (more qualified people than needed): the bar shows demand.
        supply = min(r.supply, r.demand)
        pipeline = min(r.pipeline, r.demand - supply)
        x, parts = LABEL_WIDTH, []
        for kind, people in (("supply", supply), ("pipeline", pipeline), ("gap", r.gap)):
            if people > 0:
                width = BAR_WIDTH * people / longest
                parts.append(Segment(kind, people, round(x, 2), round(width, 2)))
                x += width
        name = f"{r.label} ({r.level_name})"
        title = (
            f"{name}, needed by {r.needed_by:%d %b %Y}: {r.demand} needed, {r.supply} qualified, "
            f"{r.pipeline} in training, gap {r.gap}"
        )
        bars.append(GapBar(_short(name), title, i * ROW_HEIGHT, tuple(parts), r))
    return GapChart(
        bars=tuple(bars),
        width=LABEL_WIDTH + BAR_WIDTH + FIGURE_WIDTH,
        height=max(1, len(bars)) * ROW_HEIGHT,
        label_width=LABEL_WIDTH,
        bar_x_end=LABEL_WIDTH + BAR_WIDTH,
        row_height=ROW_HEIGHT,
    )
