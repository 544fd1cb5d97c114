"""“Quality Management with Statistics” (Northfield University + Acme Manufacturing)."""

from courses.demo import outcome

SUMMARY = """\
Acme's quality lab measures thousands of parts a day. This course, **co-designed by
Northfield University and Acme Manufacturing**, turns those measurements into decisions: is the
process stable, is it capable of meeting the drawing's tolerance, and when should an operator
stop the line?

It follows the way the plant works: each statistical idea is introduced with a real part (a
turned shaft with a diameter of 12.00 ± 0.05 mm) and checked against the plant's control plan.

**You will be able to** tell common-cause from special-cause variation, compute and interpret
Cp and Cpk, and read X-bar and R control charts with the Western Electric rules.
"""

LESSON_VARIATION = """\
No two shafts are exactly 12.00 mm. The question is never *whether* parts vary but *why*.

**Common causes** are the many small influences that are always present: tiny temperature
changes, tool wear within a shift, material from the same batch. Together they give a stable,
predictable spread.

**Special causes** are events: a new batch of steel, a loose fixture, a tool that breaks. They
shift or widen the spread suddenly.

| Situation at Acme | Cause type | Right reaction |
|---|---|---|
| Diameters scatter ±0.01 mm around 12.00 every day | Common | Leave the process alone |
| All parts after 10:40 are 0.03 mm larger | Special | Find the event (tool change at 10:35?) |
| Spread doubles on the night shift | Special | Compare set-up procedures between shifts |

## Tampering makes things worse

Adjusting the machine after every slightly large part reacts to common-cause noise as if it
were a special cause. W. Edwards Deming's funnel experiment shows that this *increases* the
variation. Control charts exist to tell the two situations apart.
"""

LESSON_CAPABILITY = """\
A stable process can still make bad parts if its spread is too wide for the tolerance.

- Tolerance: 12.00 ± 0.05 mm, so **LSL = 11.95** and **USL = 12.05**.
- Process: mean **μ = 12.01 mm**, standard deviation **σ = 0.01 mm**.

**Cp** compares the tolerance width with the process spread (six standard deviations):

    Cp = (USL − LSL) / (6σ) = 0.10 / 0.06 = 1.67

**Cpk** also accounts for a mean that is off-centre; it uses the nearer limit:

    Cpk = min(USL − μ, μ − LSL) / (3σ) = min(0.04, 0.06) / 0.03 = 1.33

## Reading the numbers

| Cpk | Meaning | Typical requirement |
|---|---|---|
| < 1.00 | Parts outside tolerance are expected | Not acceptable |
| 1.00–1.33 | Capable, little margin | Needs a plan |
| ≥ 1.33 | Capable | Usual automotive minimum |
| ≥ 1.67 | Very capable | New processes, safety parts |

Cp ≥ Cpk always; when they differ a lot, **centring** the process is the cheapest improvement.
Capability is meaningful only for a **stable** process: check the control chart first.

![Control chart of shaft diameters](educluster-file:control-chart.png)
"""

LESSON_CHARTS = """\
Every hour an operator measures a subgroup of **n = 5** consecutive shafts and writes down the
mean (x̄) and the range (R = largest − smallest).

```text
centre line      CL  = mean of the subgroup means (x̿)
control limits   UCL = x̿ + A2 · R̄      LCL = x̿ − A2 · R̄      (A2 = 0.577 for n = 5)
```

With x̿ = 12.010 mm and R̄ = 0.023 mm the limits are 12.010 ± 0.013 mm.

**Control limits are not tolerance limits.** They describe what the process does, not what the
customer wants.

## When to react (Western Electric rules)

1. One point outside the control limits.
2. Two of three consecutive points beyond two standard deviations on the same side.
3. Four of five consecutive points beyond one standard deviation on the same side.
4. Eight consecutive points on the same side of the centre line.

A signal means *look for a special cause now*, while the evidence is fresh. Write what you
found on the chart: the next person to see a similar pattern will thank you.
"""

QUESTIONS = [
    {"key": "qm-special", "type": "single", "category": "variation", "points": 1,
     "prompt": "After a tool change at 10:35 all shafts are 0.03 mm larger. What kind of variation is this?",
     "options": [
         {"text": "Special-cause variation", "correct": True, "feedback": "An event shifted the process."},
         {"text": "Common-cause variation", "correct": False, "feedback": "Common causes do not shift the mean suddenly."},
     ], "feedback": ""},
    {"key": "qm-tamper", "type": "true_false", "category": "variation", "points": 1,
     "prompt": "Adjusting the machine after every part that is slightly above nominal reduces variation.",
     "answer": False, "feedback": "Reacting to common-cause noise (tampering) increases variation."},
    {"key": "qm-cp", "type": "numeric", "category": "capability", "points": 2,
     "prompt": "Tolerance 20.0 ± 0.3 mm, process standard deviation 0.05 mm. What is Cp?",
     "answer": 2.0, "tolerance": 0.01, "feedback": "Cp = 0.6 / (6 × 0.05) = 2.0"},
    {"key": "qm-cpk", "type": "numeric", "category": "capability", "points": 2,
     "prompt": "LSL 11.95, USL 12.05, mean 12.03, σ 0.01. What is Cpk? (two decimals)",
     "answer": 0.67, "tolerance": 0.01, "feedback": "min(0.02, 0.08) / 0.03 = 0.67: centre the process."},
    {"key": "qm-rules", "type": "multiple", "category": "charts", "points": 2,
     "prompt": "Which patterns on an X-bar chart are signals to look for a special cause?",
     "options": [
         {"text": "One point above the upper control limit", "correct": True, "feedback": ""},
         {"text": "Eight consecutive points below the centre line", "correct": True, "feedback": ""},
         {"text": "Points scattered randomly within the limits", "correct": False, "feedback": "That is a stable process."},
         {"text": "A point inside the control limits but outside the tolerance", "correct": False,
          "feedback": "That is a capability problem, not a stability signal."},
     ], "feedback": ""},
    {"key": "qm-limits", "type": "short", "category": "charts", "points": 1,
     "prompt": "Control limits describe what the process does. Which limits describe what the customer requires?",
     "accepted": ["tolerance limits", "specification limits", "tolerance", "specification"],
     "case_sensitive": False, "feedback": "Specification (tolerance) limits come from the drawing."},
]  # fmt: skip

MODULES = [
    {"title": "Variation and capability", "summary": "Why parts differ, and whether the process is good enough.",
     "activities": [
         {"key": "a1", "type": "lesson", "title": "Common and special causes of variation",
          "completion_rule": "viewed", "content": {"body": LESSON_VARIATION}},
         {"key": "a2", "type": "lesson", "title": "Process capability: Cp and Cpk",
          "completion_rule": "viewed", "content": {"body": LESSON_CAPABILITY}},
     ]},
    {"title": "Control charts", "summary": "Watching a process hour by hour.",
     "activities": [
         {"key": "a3", "type": "lesson", "title": "X-bar and R charts",
          "completion_rule": "viewed", "conditions": [{"kind": "completed", "activity": "a1"}],
          "content": {"body": LESSON_CHARTS}},
         {"key": "a4", "type": "quiz", "title": "Quiz: variation, capability and control charts",
          "completion_rule": "passed", "pass_mark": 70.0, "weight": 3.0,
          "content": {"random": {"category": "capability", "count": 2}, "pass_mark": 70.0,
                      "attempts_allowed": None, "time_limit_minutes": 20, "shuffle": True,
                      "feedback_mode": "immediate"}},
         {"key": "a5", "type": "quiz", "title": "Final check: reading the charts",
          "completion_rule": "passed", "pass_mark": 60.0, "weight": 2.0,
          "conditions": [{"kind": "grade", "activity": "a4", "min_grade": 50.0}],
          "outcomes": [outcome("0c77bcd5-b94a-475d-98e9-5a4327e4d726", "statistical process control", 2)],
          "content": {"question_keys": ["qm-special", "qm-tamper", "qm-rules", "qm-limits"],
                      "pass_mark": 60.0, "attempts_allowed": 2, "time_limit_minutes": None,
                      "shuffle": False, "feedback_mode": "score"}},
     ]},
]  # fmt: skip

MANIFEST = {
    "format": "educluster-course",
    "format_version": 1,
    "course": {
        "title": "Quality Management with Statistics", "slug": "quality-management-with-statistics",
        "summary_file": "course.md", "level": "intermediate", "estimated_hours": 16.0,
        "language": "en", "visibility": "partners", "completion_mode": "all",
        "completion_count": None, "completion_min_grade": None, "cover": "control-chart.png",
    },
    "partners": [
        {"organization": "northfield", "role": "academic_lead"},
        {"organization": "acme", "role": "industry_partner"},
    ],
    "outcomes": [
        outcome("0c77bcd5-b94a-475d-98e9-5a4327e4d726", "statistical process control", 3),
        outcome("382c11ed-20d5-4ae7-b60e-15fec527fa6c", "apply statistical analysis techniques", 2),
        outcome("35ebe444-9ece-4fbc-a55d-e99ea37267ae", "manage quality", 2),
        outcome("8d4271ca-c9fd-40b3-875f-15f78332a49e", "quality standards", 1),
    ],
    "attachments": [{"path": "attachments/control-chart.png", "filename": "control-chart.png"}],
    "course_data": {"quiz": {"questions": QUESTIONS}},
    "modules": MODULES,
}  # fmt: skip
