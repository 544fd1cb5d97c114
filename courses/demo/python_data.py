"""“Python for Production Data” (Northfield University + Acme Manufacturing)."""

from courses.demo import outcome

SUMMARY = """\
Production lines already produce the data that explains their scrap, downtime and delays; what
is missing is the skill to read it. This course was **co-designed by Northfield University's
statistics faculty and Acme Manufacturing's production engineers** so that what is taught in
the lecture hall is what the plant actually needs.

You will learn to:

- load machine logs and sensor exports into Python with *pandas*,
- find and fix the typical defects of shop-floor data (gaps, duplicates, unit mix-ups),
- summarise output, scrap and downtime per shift and per machine,
- check your results against the numbers the plant reports.

No prior programming is needed; a spreadsheet user will feel at home. In the virtual labs you
write and run real code in the browser, graded at once against the plant's own test cases.
"""

LESSON_MESSY = """\
Every machine on Acme's line 3 writes a record when a part is finished: a timestamp, the
machine id, the cycle time in seconds and a quality flag. In theory that is a perfect data set.
In practice you will meet the same problems again and again:

| Problem | Typical cause | What it does to your numbers |
|---|---|---|
| Missing rows | Network drop between PLC and historian | Output looks lower than it was |
| Duplicate rows | The historian retries after a timeout | Output looks *higher* than it was |
| Mixed units | One machine logs milliseconds, the rest seconds | Averages are off by 1000× |
| Local time | Clocks switch to summer time | One hour twice, or a missing hour |
| Free-text codes | Operators type "scrap", "Scrap ", "SCRAP" | Counts split into many categories |

## The golden rule

> Never change the raw export. Keep it, and write the cleaning steps as code that anyone can
> re-run.

When the quality engineer asks *"why is your scrap rate 2.1 % when the ERP says 2.4 %?"* you can
show exactly which rows you removed and why. That reproducibility is the main reason we use
Python instead of editing a spreadsheet by hand.

## What comes next

In the next lesson you load a real export of line 3 and look at it before changing anything.
"""

LESSON_LOAD = """\
A log export is usually a CSV file. *pandas* reads it into a **DataFrame**: a table whose
columns have names and types.

```python
import pandas as pd

log = pd.read_csv(
    "line3_2026-03.csv",
    parse_dates=["finished_at"],   # turn text into real timestamps
    dtype={"machine": "category"},  # few distinct values: store them compactly
)
print(log.shape)        # (rows, columns)
print(log.dtypes)       # check every column got the type you expect
log.head()
```

## Look before you clean

Three questions to answer before writing any cleaning code:

1. **Is the time range what you asked for?** `log["finished_at"].min()` and `.max()`.
2. **Are the categories what you expect?** `log["machine"].value_counts()` shows every machine
   id and how many parts it made.
3. **Are the numbers plausible?** `log["cycle_s"].describe()` gives count, mean, quartiles and
   extremes. A maximum of 42,000 seconds is a machine that logs milliseconds, or a part that
   waited over a weekend.

```python
log["cycle_s"].describe()
```

Write down what you found. These notes become the comments of your cleaning script.
"""

LESSON_CLEAN = """\
Cleaning is a sequence of small, explained steps. Each step should say *what* it removes and
*how many* rows it touched.

```python
before = len(log)
log = log.drop_duplicates(subset=["machine", "finished_at"])
print(f"removed {before - len(log)} duplicate rows")

# Machine M7 logs milliseconds: convert to seconds.
is_ms = log["machine"].eq("M7")
log.loc[is_ms, "cycle_s"] = log.loc[is_ms, "cycle_s"] / 1000

# Normalise the free-text quality flag.
log["quality"] = log["quality"].str.strip().str.lower()
```

## Missing values

`log.isna().sum()` counts the gaps per column. Decide per column:

- a missing **quality flag** cannot be guessed: keep the row, report it as *unknown*;
- a missing **cycle time** can be left out of averages (pandas does so by default);
- a missing **timestamp** makes the row useless for shift reports: drop it and count it.

## Outliers are questions, not errors

A cycle of 900 s on a 40 s operation may be a stoppage. Do not delete it silently: flag it
(`log["long_cycle"] = log["cycle_s"] > 5 * log["cycle_s"].median()`) and ask the line leader.
"""

LESSON_SUMMARISE = """\
The plant reports per shift (06–14, 14–22, 22–06) and per machine. `groupby` does both.

```python
import numpy as np

hour = log["finished_at"].dt.hour
log["shift"] = np.select(
    [hour.between(6, 13), hour.between(14, 21)], ["early", "late"], default="night"
)

summary = (
    log.groupby(["shift", "machine"], observed=True)
    .agg(parts=("cycle_s", "size"),
         mean_cycle_s=("cycle_s", "mean"),
         scrap=("quality", lambda q: (q == "scrap").sum()))
)
summary["scrap_rate_pct"] = 100 * summary["scrap"] / summary["parts"]
```

## Check against the plant's numbers

Before you present anything, compare your totals with the ERP report for the same period.
A difference of a few parts is normal (late bookings); a difference of hundreds means a
cleaning step removed too much, or the time zones differ.

| Check | Your value | ERP value |
|---|---|---|
| Parts produced, March | `summary["parts"].sum()` | from the monthly report |
| Scrap rate, March | weighted, not the mean of the rates | from the quality report |

**Weighted, not averaged:** the scrap rate of the whole line is total scrap divided by total
parts, not the average of the per-machine rates.
"""

QUESTIONS = [
    {"key": "pd-duplicates", "type": "single", "category": "cleaning", "points": 1,
     "prompt": "A historian retries after a timeout and writes some records twice. What happens "
               "to the output count if you do not clean the data?",
     "options": [
         {"text": "It is too high", "correct": True, "feedback": "Each duplicate counts a part twice."},
         {"text": "It is too low", "correct": False, "feedback": "That is what missing rows do."},
         {"text": "It does not change", "correct": False, "feedback": "Duplicates are counted like any row."},
     ], "feedback": "Remove duplicates by machine and timestamp before counting."},
    {"key": "pd-inspect", "type": "multiple", "category": "loading", "points": 2,
     "prompt": "Which calls help you look at a new export *before* cleaning it?",
     "options": [
         {"text": "log.dtypes", "correct": True, "feedback": ""},
         {"text": "log[\"machine\"].value_counts()", "correct": True, "feedback": ""},
         {"text": "log[\"cycle_s\"].describe()", "correct": True, "feedback": ""},
         {"text": "log.drop_duplicates()", "correct": False, "feedback": "That already changes the data."},
     ], "feedback": ""},
    {"key": "pd-raw", "type": "true_false", "category": "cleaning", "points": 1,
     "prompt": "You should fix obvious errors directly in the raw CSV export so that everyone "
               "uses the corrected file.",
     "answer": False,
     "feedback": "Keep the raw export untouched and write the cleaning as code anyone can re-run."},
    {"key": "pd-ms", "type": "numeric", "category": "cleaning", "points": 1,
     "prompt": "Machine M7 logs a cycle time of 42500 in milliseconds. How many seconds is that?",
     "answer": 42.5, "tolerance": 0.01, "feedback": "Divide by 1000."},
    {"key": "pd-scrap", "type": "numeric", "category": "summaries", "points": 2,
     "prompt": "Machine A made 900 parts with 9 scrap, machine B made 100 parts with 11 scrap. "
               "What is the scrap rate of the line, in percent?",
     "answer": 2.0, "tolerance": 0.05,
     "feedback": "Total scrap / total parts = 20 / 1000 = 2 %. The mean of 1 % and 11 % (6 %) is wrong."},
    {"key": "pd-groupby", "type": "short", "category": "summaries", "points": 1,
     "prompt": "Which pandas method splits a table into groups (for example per shift) before "
               "aggregating? Give the method name only.",
     "accepted": ["groupby", "groupby()", "DataFrame.groupby"], "case_sensitive": False,
     "feedback": "log.groupby([\"shift\", \"machine\"]).agg(...)"},
]  # fmt: skip

MANIFEST = {
    "format": "educluster-course",
    "format_version": 1,
    "course": {
        "title": "Python for Production Data",
        "slug": "python-for-production-data",
        "summary_file": "course.md",
        "level": "beginner",
        "estimated_hours": 12.0,
        "language": "en",
        "visibility": "partners",
        "completion_mode": "all",
        "completion_count": None,
        "completion_min_grade": None,
        "cover": None,
    },
    "partners": [
        {"organization": "northfield", "role": "academic_lead"},
        {"organization": "acme", "role": "industry_partner"},
    ],
    "outcomes": [
        outcome("ccd0a1d9-afda-43d9-b901-96344886e14d", "Python (computer programming)", 2),
        outcome("50b100ea-74fd-4706-99db-3e4ca55e51b8", "perform data cleansing", 2),
        outcome("f2d57f41-43b4-4f5b-8100-3df5c21eda50", "process data", 2),
        outcome("2b92a5b2-6758-4ee3-9fb4-b6387a55cc8f", "perform data analysis", 1),
        outcome("c09dce1b-e198-487e-b63f-934e10a4c181", "monitor plant production", 1),
    ],
    "attachments": [],
    "course_data": {"quiz": {"questions": QUESTIONS}},
    "modules": [
        {"title": "Reading production data", "summary": "What machine logs contain and how to load them.",
         "activities": [
             {"key": "a1", "type": "lesson", "title": "Why production data is messy",
              "completion_rule": "viewed", "content": {"body": LESSON_MESSY}},
             {"key": "a2", "type": "lesson", "title": "Loading machine logs with pandas",
              "completion_rule": "viewed", "content": {"body": LESSON_LOAD}},
         ]},
        {"title": "Cleaning and summarising", "summary": "From raw rows to the numbers the plant reports.",
         "activities": [
             {"key": "a3", "type": "lesson", "title": "Cleaning sensor readings",
              "completion_rule": "viewed", "content": {"body": LESSON_CLEAN}},
             {"key": "a4", "type": "lesson", "title": "Shift and machine summaries with groupby",
              "completion_rule": "viewed", "content": {"body": LESSON_SUMMARISE}},
             {"key": "a5", "type": "quiz", "title": "Check: production data basics",
              "completion_rule": "passed", "pass_mark": 60.0, "weight": 2.0,
              "conditions": [{"kind": "completed", "activity": "a3"}],
              "outcomes": [outcome("f2d57f41-43b4-4f5b-8100-3df5c21eda50", "process data", 1)],
              "content": {"question_keys": [q["key"] for q in QUESTIONS], "pass_mark": 60.0,
                          "attempts_allowed": 3, "time_limit_minutes": 15, "shuffle": True,
                          "feedback_mode": "immediate"}},
         ]},
    ],
}  # fmt: skip

# --- practice at the plant: an assignment with a rubric and peer review, and a Q&A forum -------
ASSIGNMENT_INSTRUCTIONS = """\
Acme's quality engineers reported a **scrap rate of 2.4 %** for line 3 in March; the export you
cleaned in the labs gives a different figure. Write a short report (one page is enough) that the
shift supervisor could act on:

1. **Your number**: the scrap rate per shift and per machine, with the code that computes it.
2. **The difference**: which rows you removed or corrected (duplicates, unit mix-ups, free-text
   codes) and how much each step changed the result.
3. **One recommendation** for the plant: a change to how the data is logged, or where to look
   first on the line.

Hand in your text here (Markdown, tables welcome) and attach your notebook or script (`.py`) and
the summary table (`.csv`). A mentor from Acme grades the reports with the rubric below; you also
review one classmate's report, anonymously.
"""

ASSIGNMENT_RUBRIC = [
    {"title": "Reproducible cleaning",
     "description": "Every correction is code that re-runs on the raw export",
     "levels": [{"title": "Changes made by hand", "points": 0.0},
                {"title": "Partly scripted", "points": 2.0},
                {"title": "Fully scripted and explained", "points": 4.0}]},
    {"title": "Correct figures",
     "description": "Scrap rate per shift and machine matches the cleaned data",
     "levels": [{"title": "Wrong or missing", "points": 0.0},
                {"title": "Minor slips", "points": 2.0},
                {"title": "Correct, with the difference to the ERP explained", "points": 4.0}]},
    {"title": "Recommendation",
     "description": "Something a shift supervisor can act on next week",
     "levels": [{"title": "None", "points": 0.0},
                {"title": "Vague", "points": 1.0},
                {"title": "Concrete and justified by the data", "points": 2.0}]},
]  # fmt: skip

FORUM_INTRO = """\
Ask anything about the lessons, the labs or the scrap report here. Check whether your question
was already asked (use the search), and mark the reply that solved your problem as the answer so
the next learner finds it. Trainers from Northfield and Acme read this forum every working day.
"""

PRACTICE_MODULE = {
    "title": "Practice at the plant",
    "summary": "Apply what you learned to line 3's real export, with feedback from Acme.",
    "activities": [
        {"type": "assignment", "title": "Scrap report for line 3", "completion_rule": "graded",
         "pass_mark": 50.0, "weight": 3.0, "required": False,
         "content": {"instructions": ASSIGNMENT_INSTRUCTIONS, "submit_text": True,
                     "submit_files": True, "file_types": ["csv", "md", "pdf", "py", "txt"],
                     "max_file_bytes": 2 * 1024 * 1024, "max_files": 3,
                     "resubmission": "until_graded", "grading": "rubric", "max_score": 100.0,
                     "rubric": ASSIGNMENT_RUBRIC, "peer_review": True, "peer_count": 1,
                     "peer_weight": 20.0}},
        {"type": "forum", "title": "Questions and answers", "completion_rule": "submitted",
         "required": False,
         "content": {"kind": "qa", "intro": FORUM_INTRO, "completion_posts": None,
                     "completion_replies": 1}},
    ],
}  # fmt: skip

# (author email, thread title, body, [(author email, reply body)], answer index or None, pinned)
FORUM_THREADS = [
    ("trainer@uni.demo", "How to ask a good question here",
     "Tell us **what you ran**, **what you expected** and **what you got** (paste the error "
     "message as a code block). Most answers come within a working day; Acme's engineers answer "
     "questions about the line itself.", [], None, True),
    ("employee@acme.demo", "Why does groupby drop rows with a missing machine id?",
     "My per-machine summary has 212 fewer parts than the raw export:\n\n```python\n"
     "log.groupby(\"machine\")[\"cycle_s\"].count().sum()  # 48 788, raw has 49 000\n```\n\n"
     "Where did they go?",
     [("student@uni.demo", "`groupby` leaves out rows whose key is `NaN` by default. Pass "
       "`dropna=False` to keep them as their own group, then decide whether they are real "
       "parts:\n\n```python\nlog.groupby(\"machine\", dropna=False)[\"cycle_s\"].count()\n```"),
      ("trainer@acme.demo", "Those are the records written while the PLC on M-07 restarted. "
       "They are real parts: count them, and report the gap to maintenance.")], 0, False),
]  # fmt: skip

# (learner email, text) of work already handed in, so a peer has something to review.
DEMO_SUBMISSIONS = [
    ("employee@acme.demo",
     "## Scrap on line 3, March\n\n| Shift | Parts | Scrap | Rate |\n|---|---:|---:|---:|\n"
     "| Early | 16 402 | 361 | 2.2 % |\n| Late | 16 118 | 403 | 2.5 % |\n| Night | 16 480 | 428 "
     "| 2.6 % |\n\nAfter removing 212 duplicate retries and converting M-04's milliseconds, the "
     "rate is **2.4 %**, the ERP's figure. Before cleaning it looked like 2.1 %.\n\n"
     "**Recommendation:** make the quality flag a pick list on the HMI instead of free text."),
]  # fmt: skip
