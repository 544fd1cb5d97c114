"""Server-rendered SVG charts (no JavaScript): a monthly line chart with a title and labels."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 560, 180, 44, 28, 12


def line_chart(title: str, months: list[str], points: list[dict], chart_id: str) -> Markup:
    """An SVG line of ``points`` (figures with ``value``) over ``months``.

    Months without a value (no snapshot, or suppressed) leave a gap; the figures are also in the
    table beside the chart, as the design language asks.
    """
    values = [p["value"] for p in points if p.get("value") is not None]
    top = max(values) if values else 1
    top = top if top > 0 else 1
    inner_w, inner_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_BOTTOM - PAD_TOP
    step = inner_w / max(len(months) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        """The point of month ``i`` with value ``v``."""
        return PAD_LEFT + i * step, PAD_TOP + inner_h - (v / top) * inner_h

    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'aria-labelledby="{chart_id}-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<line class="chart__axis" x1="{PAD_LEFT}" y1="{PAD_TOP + inner_h}" '
        f'x2="{WIDTH - 8}" y2="{PAD_TOP + inner_h}"/>',
        f'<text class="chart__label" x="{PAD_LEFT - 6}" y="{PAD_TOP + 4}" '
        f'text-anchor="end">{escape(_short(top))}</text>',
        f'<text class="chart__label" x="{PAD_LEFT - 6}" y="{PAD_TOP + inner_h}" '
        f'text-anchor="end">0</text>',
    ]
    dots, segments = _plot(points, months, xy)
    parts += dots
    parts += [f'<polyline class="chart__line" points="{" ".join(seg)}"/>' for seg in segments]
    for i, month in enumerate(months):
        last = len(months) - 1
        if (i % 3 == 0 and last - i > 2) or i == last:  # the last month never crowds another
            x, _ = xy(i, 0)
            anchor = "end" if i == last else "middle"  # the last stays inside the chart
            parts.append(
                f'<text class="chart__label" x="{x:.1f}" y="{HEIGHT - 8}" '
                f'text-anchor="{anchor}">{escape(month)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _plot(points: list[dict], months: list[str], xy) -> tuple[list[str], list[list[str]]]:
    """The dots (with their month and figure as a tooltip) and the runs of consecutive points
    joined by a line; a month without a value breaks the line."""
    dots: list[str] = []
    segments: list[list[str]] = [[]]
    for i, point in enumerate(points):
        value = point.get("value")
        if value is None:
            segments.append([])
            continue
        x, y = xy(i, value)
        segments[-1].append(f"{x:.1f},{y:.1f}")
        dots.append(
            f'<circle class="chart__dot" cx="{x:.1f}" cy="{y:.1f}" r="3">'
            f"<title>{escape(months[i])}: {escape(point['display'])}</title></circle>"
        )
    return dots, [seg for seg in segments if seg]


def _short(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"
