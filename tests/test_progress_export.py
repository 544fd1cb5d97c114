"""Exports stream: memory stays flat however many rows, and formulas are defused."""

import csv
import io
import tracemalloc
from datetime import datetime

from lms.export import csv_lines


def _rows(n):
    for i in range(n):
        yield (f"Employee {i}", f"e{i}@acme.test", "Quality", "Retraining", "in_progress",
               round(i % 100 / 1.0, 1), i % 4, datetime(2026, 11, 1), None)  # fmt: skip


def test_csv_of_100k_rows_in_constant_memory():
    header = ["Employee", "Email", "Department", "Program", "Status", "Progress", "Courses",
              "Last", "Due"]  # fmt: skip
    tracemalloc.start()
    size = chunks = 0
    for chunk in csv_lines(header, _rows(100_000)):
        size += len(chunk)
        chunks += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert size > 7_000_000 and chunks > 100  # streamed in many ~64 KB pieces
    assert peak < 1_000_000  # well under 1 MB for a 7 MB file


def test_csv_defuses_formulas():
    text = "".join(csv_lines(["Name"], [('=HYPERLINK("http://evil")',), ("-1+2",), (-3,)]))
    values = [r[0] for r in csv.reader(io.StringIO(text))]
    assert values == ["Name", '\'=HYPERLINK("http://evil")', "'-1+2", "-3"]
