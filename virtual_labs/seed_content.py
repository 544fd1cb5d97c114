"""The demo labs' content: instructions, starter and reference files, tests and skills.

Plain data (``DEMO_LABS``) that ``seed.seed_labs`` writes into the courses.
"""

from __future__ import annotations

import statistics
from typing import Any

PYTHON_COURSE = "python-for-production-data"
STATS_COURSES = ("quality-management-with-statistics", "statistical-quality-control")
MODULE_TITLE = "Hands-on labs"

SENSOR_INSTRUCTIONS = """\
A temperature transmitter on the extrusion line logs one reading per minute. Quality wants a
quick report of the readings that left the tolerance band.

Write a program that reads the log as **CSV on standard input** and takes the **nominal value**
and the **tolerance** as command-line arguments (`sys.argv[1]` and `sys.argv[2]`).

The CSV has a header line `timestamp,sensor,value`. A reading is *out of tolerance* when
`|value - nominal| > tolerance` (a reading exactly on the limit is fine).

Print, in input order, one line per out-of-tolerance reading:

    OUT <timestamp> <sensor> <value with 2 decimals> HIGH|LOW

then a summary line `<flagged> of <total> readings out of tolerance`. Rows whose value is empty
or not a number are not counted; when there were any, finish with `skipped <n> malformed rows`.

**Example** with arguments `80.0 0.5`:

| timestamp | sensor | value |
|---|---|---|
| 2026-03-02T06:00 | TT-101 | 80.2 |
| 2026-03-02T06:01 | TT-101 | 80.9 |

prints

    OUT 2026-03-02T06:01 TT-101 80.90 HIGH
    1 of 2 readings out of tolerance

Use **Run** to try the visible tests, then **Submit** to be graded (hidden tests included).
"""

SENSOR_STARTER = """\
import csv
import sys


def main(argv):
    nominal = float(argv[1])
    tolerance = float(argv[2])
    reader = csv.DictReader(sys.stdin)
    for row in reader:
        # Your code here: check row["value"] against the tolerance band.
        pass


if __name__ == "__main__":
    main(sys.argv)
"""

SENSOR_REFERENCE = """\
import csv
import sys


def main(argv):
    nominal = float(argv[1])
    tolerance = float(argv[2])
    total = flagged = skipped = 0
    for row in csv.DictReader(sys.stdin):
        try:
            value = float(row["value"])
        except (TypeError, ValueError):
            skipped += 1
            continue
        total += 1
        deviation = value - nominal
        if abs(deviation) > tolerance:
            flagged += 1
            side = "HIGH" if deviation > 0 else "LOW"
            print(f"OUT {row['timestamp']} {row['sensor']} {value:.2f} {side}")
    print(f"{flagged} of {total} readings out of tolerance")
    if skipped:
        print(f"skipped {skipped} malformed rows")


if __name__ == "__main__":
    main(sys.argv)
"""

SENSOR_TESTS = [
    {
        "name": "Two readings out of tolerance",
        "args": ["80.0", "0.5"],
        "stdin": "timestamp,sensor,value\n2026-03-02T06:00,TT-101,80.2\n"
        "2026-03-02T06:01,TT-101,80.9\n2026-03-02T06:02,TT-101,79.3\n"
        "2026-03-02T06:03,TT-101,80.5\n",
        "expected": "OUT 2026-03-02T06:01 TT-101 80.90 HIGH\n"
        "OUT 2026-03-02T06:02 TT-101 79.30 LOW\n2 of 4 readings out of tolerance\n",
    },
    {
        "name": "Everything within tolerance",
        "args": ["12.5", "0.25"],
        "stdin": "timestamp,sensor,value\n2026-03-02T07:00,PT-7,12.4\n"
        "2026-03-02T07:01,PT-7,12.6\n2026-03-02T07:02,PT-7,12.75\n",
        "expected": "0 of 3 readings out of tolerance\n",
    },
    {
        "name": "Malformed rows are skipped",
        "hidden": True,
        "args": ["80", "0.5"],
        "stdin": "timestamp,sensor,value\n2026-03-02T08:00,TT-101,\n"
        "2026-03-02T08:01,TT-101,81.2\n2026-03-02T08:02,TT-101,n/a\n"
        "2026-03-02T08:03,TT-101,80.1\n",
        "expected": "OUT 2026-03-02T08:01 TT-101 81.20 HIGH\n"
        "1 of 2 readings out of tolerance\nskipped 2 malformed rows\n",
    },
    {
        "name": "Several sensors in one log",
        "hidden": True,
        "weight": 2.0,
        "args": ["200", "1.5"],
        "stdin": "timestamp,sensor,value\n2026-03-03T06:00,TT-201,198.4\n"
        "2026-03-03T06:00,TT-202,201.5\n2026-03-03T06:01,TT-201,201.6\n"
        "2026-03-03T06:01,TT-202,199.9\n2026-03-03T06:02,TT-201,196.0\n",
        "expected": "OUT 2026-03-03T06:00 TT-201 198.40 LOW\n"
        "OUT 2026-03-03T06:01 TT-201 201.60 HIGH\n"
        "OUT 2026-03-03T06:02 TT-201 196.00 LOW\n3 of 5 readings out of tolerance\n",
    },
]

OEE_INSTRUCTIONS = """\
**Overall Equipment Effectiveness** (OEE) tells how much of the planned production time was
truly productive. It is the product of three ratios:

- **Availability** = run time / planned time, where run time = planned time − downtime
- **Performance** = (ideal cycle time × total count) / run time
- **Quality** = good count / total count

Complete the function `oee(planned_min, downtime_min, ideal_cycle_s, total_count, good_count)`
in `main.py`. It returns the tuple `(availability, performance, quality, oee)` as fractions
between 0 and 1. Times are in minutes, except the ideal cycle time, which is in seconds. When a
ratio has nothing to divide by (no run time, nothing produced) it is `0.0`: never raise
`ZeroDivisionError`.

The program part is already written: it reads shift records as CSV on standard input
(`shift,planned_min,downtime_min,ideal_cycle_s,total_count,good_count`) and prints, per shift:

    Early: A=87.5% P=90.5% Q=95.0% OEE=75.2%

Some tests call your function directly, so keep its name and arguments.
"""

OEE_MAIN = """\
import sys


def oee(planned_min, downtime_min, ideal_cycle_s, total_count, good_count):
    \"\"\"Return (availability, performance, quality, oee), each a fraction from 0 to 1.\"\"\"
{body}


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line or line.startswith("shift"):
            continue
        name, planned, downtime, cycle, total, good = line.split(",")
        a, p, q, o = oee(float(planned), float(downtime), float(cycle), int(total), int(good))
        print(f"{{name}}: A={{a:.1%}} P={{p:.1%}} Q={{q:.1%}} OEE={{o:.1%}}")


if __name__ == "__main__":
    main()
"""
OEE_STARTER = OEE_MAIN.format(
    body="    availability = performance = quality = 0.0\n"
    "    # Your code here: compute the three ratios.\n"
    "    return availability, performance, quality, availability * performance * quality"
)
OEE_REFERENCE = OEE_MAIN.format(
    body="    run_min = planned_min - downtime_min\n"
    "    availability = run_min / planned_min if planned_min > 0 else 0.0\n"
    "    performance = ideal_cycle_s * total_count / (run_min * 60) if run_min > 0 else 0.0\n"
    "    quality = good_count / total_count if total_count > 0 else 0.0\n"
    "    return availability, performance, quality, availability * performance * quality"
)
SHIFT_HEADER = "shift,planned_min,downtime_min,ideal_cycle_s,total_count,good_count\n"
OEE_TESTS = [
    {
        "name": "Two shifts",
        "stdin": SHIFT_HEADER + "Early,480,60,30,760,722\nLate,480,47,28,850,816\n",
        "expected": "Early: A=87.5% P=90.5% Q=95.0% OEE=75.2%\n"
        "Late: A=90.2% P=91.6% Q=96.0% OEE=79.3%\n",
    },
    {
        "name": "oee() on a perfect and a stopped shift",
        "kind": "python_unit",
        "code": "from main import oee\n\n\n"
        "def test_perfect_shift():\n"
        "    a, p, q, o = oee(480, 0, 60, 480, 480)\n"
        "    assert (a, p, q) == (1.0, 1.0, 1.0), f'expected all ratios 1.0, got {(a, p, q)}'\n"
        "    assert abs(o - 1.0) < 1e-9\n\n\n"
        "def test_downtime_lowers_availability():\n"
        "    a, p, q, o = oee(480, 120, 60, 360, 360)\n"
        "    assert abs(a - 0.75) < 1e-9, f'availability should be 0.75, got {a}'\n"
        "    assert abs(o - 0.75) < 1e-9, f'OEE should be 0.75, got {o}'\n",
    },
    {
        "name": "Night and weekend shifts",
        "hidden": True,
        "stdin": SHIFT_HEADER + "Night,420,35,45,500,470\nWeekend,240,0,20,690,683\n",
        "expected": "Night: A=91.7% P=97.4% Q=94.0% OEE=83.9%\n"
        "Weekend: A=100.0% P=95.8% Q=99.0% OEE=94.9%\n",
    },
    {
        "name": "No production does not divide by zero",
        "kind": "python_unit",
        "hidden": True,
        "weight": 2.0,
        "code": "from main import oee\n\n\n"
        "def test_line_down_all_shift():\n"
        "    assert oee(480, 480, 30, 0, 0) == (0.0, 0.0, 0.0, 0.0)\n\n\n"
        "def test_nothing_planned():\n"
        "    assert oee(0, 0, 30, 0, 0)[3] == 0.0\n",
    },
]

STATS_INSTRUCTIONS = """\
The gauge on the grinding cell exports shaft diameters (mm) as numbers separated by spaces or
new lines. Before each capability study, quality needs the **mean** and the **sample standard
deviation** of a batch.

Write a C program that reads every number from standard input until the end of input and
prints

    n=<count> mean=<mean, 3 decimals> sd=<sample standard deviation, 3 decimals>

The sample standard deviation divides by *n − 1*. With fewer than two measurements print
`need at least 2 measurements` instead. Link with the maths library is automatic (`sqrt` from
`<math.h>` works). For long batches, prefer a numerically stable method (Welford's algorithm).

**Example:** `10.02 9.98 10.01 10.00 9.99` gives `n=5 mean=10.000 sd=0.016`.
"""

STATS_STARTER = """\
#include <math.h>
#include <stdio.h>

int main(void)
{
    double x;
    long n = 0;
    while (scanf("%lf", &x) == 1) {
        n++;
        /* Your code here: keep what you need for the mean and the deviation. */
    }
    printf("n=%ld\\n", n);
    return 0;
}
"""

STATS_REFERENCE = """\
#include <math.h>
#include <stdio.h>

int main(void)
{
    double x, mean = 0.0, m2 = 0.0;
    long n = 0;
    /* Welford's method: numerically stable in one pass. */
    while (scanf("%lf", &x) == 1) {
        n++;
        double delta = x - mean;
        mean += delta / n;
        m2 += delta * (x - mean);
    }
    if (n < 2) {
        printf("need at least 2 measurements\\n");
        return 0;
    }
    printf("n=%ld mean=%.3f sd=%.3f\\n", n, mean, sqrt(m2 / (n - 1)));
    return 0;
}
"""


def _big_batch() -> tuple[str, str]:
    """200 deterministic readings around 50 mm and their summary line."""
    values = [round(50.0 + ((i * 37) % 41 - 20) / 100.0, 2) for i in range(200)]
    stdin = "\n".join(" ".join(f"{v:.2f}" for v in values[i : i + 10]) for i in range(0, 200, 10))
    mean = statistics.fmean(values)
    sd = statistics.stdev(values)
    return stdin + "\n", f"n=200 mean={mean:.3f} sd={sd:.3f}\n"


BIG_STDIN, BIG_EXPECTED = _big_batch()
STATS_TESTS = [
    {
        "name": "Five shaft diameters",
        "stdin": "10.02 9.98 10.01 10.00 9.99\n",
        "expected": "n=5 mean=10.000 sd=0.016\n",
    },
    {
        "name": "A single measurement",
        "stdin": "5.0\n",
        "expected": "need at least 2 measurements\n",
    },
    {
        "name": "One reading per line",
        "hidden": True,
        "stdin": "25.41\n25.38\n25.44\n25.40\n25.37\n25.43\n25.39\n25.42\n",
        "expected": "n=8 mean=25.405 sd=0.024\n",
    },
    {
        "name": "A batch of 200",
        "hidden": True,
        "weight": 2.0,
        "compare": "numeric",
        "tolerance": 0.0015,
        "stdin": BIG_STDIN,
        "expected": BIG_EXPECTED,
    },
]

ESCO = "http://data.europa.eu/esco/skill/"

DEMO_LABS: list[dict[str, Any]] = [
    {
        "courses": (PYTHON_COURSE,),
        "title": "Lab: flag out-of-tolerance sensor readings",
        "instructions": SENSOR_INSTRUCTIONS,
        "language": "python",
        "starter_files": {"main.py": SENSOR_STARTER},
        "reference_files": {"main.py": SENSOR_REFERENCE},
        "tests": SENSOR_TESTS,
        "pass_mark": 80.0,
        # (ESCO skill of the cluster framework, level): what passing the lab shows
        "outcomes": [
            (ESCO + "ccd0a1d9-afda-43d9-b901-96344886e14d", 2),
            (ESCO + "f2d57f41-43b4-4f5b-8100-3df5c21eda50", 2),
        ],
    },
    {
        "courses": (PYTHON_COURSE,),
        "title": "Lab: compute OEE from shift data",
        "instructions": OEE_INSTRUCTIONS,
        "language": "python",
        "starter_files": {"main.py": OEE_STARTER},
        "reference_files": {"main.py": OEE_REFERENCE},
        "tests": OEE_TESTS,
        "pass_mark": 80.0,
        "outcomes": [
            (ESCO + "ccd0a1d9-afda-43d9-b901-96344886e14d", 2),
            (ESCO + "8dcbcabe-09f7-4d11-940d-125af57bbc40", 2),
        ],
    },
    {
        "courses": STATS_COURSES,
        "title": "Lab: mean and standard deviation in C",
        "instructions": STATS_INSTRUCTIONS,
        "language": "c",
        "starter_files": {"main.c": STATS_STARTER},
        "reference_files": {"main.c": STATS_REFERENCE},
        "tests": STATS_TESTS,
        "outcomes": [
            (ESCO + "21d2f96d-35f7-4e3f-9745-c533d2dd6e97", 2),
            (ESCO + "7ee4c2ea-b349-4bd2-81a3-ec31475d4833", 1),
        ],
        "pass_mark": 75.0,
    },
]
