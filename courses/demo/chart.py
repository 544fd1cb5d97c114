"""A small control-chart picture for the demo quality lesson, drawn as a PNG without libraries."""

from __future__ import annotations

import struct
import zlib

WIDTH, HEIGHT = 480, 200
# Subgroup means of shaft diameters (mm); one drifts out of control at the end.
MEANS = [12.008, 12.012, 12.006, 12.011, 12.009, 12.014, 12.007, 12.010, 12.013, 12.009,
         12.012, 12.008, 12.011, 12.016, 12.019, 12.025]  # fmt: skip
CL, UCL, LCL = 12.010, 12.023, 11.997


def _y(value: float) -> int:
    low, high = 11.990, 12.030
    return int(HEIGHT - 16 - (value - low) / (high - low) * (HEIGHT - 32))


WHITE, INK, BLUE, RED, GREY = (
    (255, 255, 255),
    (27, 31, 36),
    (31, 95, 191),
    (198, 40, 40),
    (150, 158, 168),
)


class _Canvas:
    """An RGB picture of WIDTH × HEIGHT pixels to paint dots and lines on."""

    def __init__(self) -> None:
        self.pixels = [[WHITE] * WIDTH for _ in range(HEIGHT)]

    def dot(self, x: int, y: int, colour, r: int = 0) -> None:
        """Paint a square dot of radius r on the chart."""
        for dx in range(-r, r + 1):
            for dy in range(-r, r + 1):
                if 0 <= x + dx < WIDTH and 0 <= y + dy < HEIGHT:
                    self.pixels[y + dy][x + dx] = colour

    def line(self, x0: int, y0: int, x1: int, y1: int, colour, dashed: bool = False) -> None:
        """Paint a straight, optionally dashed, line on the chart."""
        steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for i in range(steps + 1):
            if dashed and (i // 6) % 2:
                continue
            self.dot(round(x0 + (x1 - x0) * i / steps), round(y0 + (y1 - y0) * i / steps), colour)


def control_chart_png() -> bytes:
    """PNG of a process control chart used as a demo course image."""
    canvas = _Canvas()
    canvas.line(30, 8, 30, HEIGHT - 12, INK)
    canvas.line(30, HEIGHT - 12, WIDTH - 8, HEIGHT - 12, INK)
    for limit, colour in ((UCL, RED), (CL, GREY), (LCL, RED)):
        canvas.line(30, _y(limit), WIDTH - 8, _y(limit), colour, dashed=True)
    step = (WIDTH - 60) // (len(MEANS) - 1)
    points = [(40 + i * step, _y(m)) for i, m in enumerate(MEANS)]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        canvas.line(x0, y0, x1, y1, BLUE)
    for (x, y), mean in zip(points, MEANS, strict=True):
        canvas.dot(x, y, RED if mean > UCL else BLUE, 2)
    return _png(canvas.pixels)


def _png(pixels: list[list[tuple[int, int, int]]]) -> bytes:
    """Encode rows of RGB pixels as a PNG (8-bit truecolour, no filter, deflated)."""
    raw = b"".join(b"\x00" + bytes(c for px in row for c in px) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        """PNG chunk with its length and CRC."""
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
