"""“Warehouse Automation Basics” (Northfield University + Globex Logistics) and the course still
in review, “Lean Manufacturing for Shop-Floor Teams” (Northfield + Acme)."""

from courses.demo import outcome

SUMMARY = """\
Globex Logistics runs three automated warehouses; Northfield University teaches logistics
engineering. Together they wrote this introduction for **everyone in the cluster** who works
with, plans or buys warehouse automation.

You will learn how goods-to-person systems differ from classic picker-to-goods layouts, where
automated guided vehicles (AGVs) and autonomous mobile robots (AMRs) fit, and which key
figures show whether an automated warehouse is doing its job.
"""

LESSON_G2P = """\
In a classic warehouse the **picker walks to the goods**: up to 60 % of a picker's shift is
walking. Automation attacks that walking time.

| Concept | How it works | Typical picks per hour per person |
|---|---|---|
| Picker-to-goods (paper or scanner) | Person walks the aisles with a trolley | 60–120 |
| Pick-by-light zones | Lights show where and how many; person stays in a zone | 150–250 |
| Goods-to-person (shuttle, AutoStore) | Machines bring bins to a fixed station | 300–600 |

## What changes for the team

Goods-to-person stations are ergonomic and fast, but the whole warehouse now depends on the
system's availability. Maintenance, spare parts and a fallback procedure for a stopped shuttle
become part of daily operations: at Globex a shuttle aisle stop is handled by rerouting orders
to the manual zone within 15 minutes.
"""

LESSON_AGV = """\
**AGVs** (automated guided vehicles) follow fixed routes: magnetic tape, reflectors or a
pre-programmed grid. They are predictable and well suited to repetitive pallet transport, for
example from the goods receipt to the high-bay warehouse.

**AMRs** (autonomous mobile robots) build a map with lidar and cameras and plan their own path
around obstacles. They adapt to layout changes without new infrastructure.

## Choosing between them

- Heavy loads, fixed flows, mixed traffic rules already in place → **AGV**.
- Changing layouts, small loads, picking support → **AMR**.
- In both cases: do a **safety risk assessment** (ISO 3691-4) and mark the routes for people.

> A robot that stops every time someone crosses its path is safe but slow. Route planning
> that separates people and vehicles is usually the biggest win.
"""

LESSON_KPI = """\
Automation is an investment; these figures show whether it pays off.

| KPI | Formula | Globex target |
|---|---|---|
| Order lines per hour | picked lines / productive hours | ≥ 350 at G2P stations |
| Picking accuracy | correct lines / picked lines | ≥ 99.9 % |
| Dock-to-stock time | time from unloading to available in stock | ≤ 4 h |
| System availability | uptime / planned operating time | ≥ 98.5 % |

**Availability example:** a system planned for 16 h that stood still for 12 minutes has an
availability of (960 − 12) / 960 = 98.75 %.

Measure before and after: without a baseline from the manual process, nobody can say what the
automation achieved.
"""

QUESTIONS = [
    {"key": "wh-g2p", "type": "single", "category": "concepts", "points": 1,
     "prompt": "Which concept removes most of the picker's walking time?",
     "options": [
         {"text": "Goods-to-person", "correct": True, "feedback": ""},
         {"text": "Picker-to-goods with scanners", "correct": False, "feedback": "The picker still walks the aisles."},
         {"text": "Paper pick lists", "correct": False, "feedback": ""},
     ], "feedback": ""},
    {"key": "wh-amr", "type": "true_false", "category": "concepts", "points": 1,
     "prompt": "An AMR needs magnetic tape on the floor to find its way.",
     "answer": False, "feedback": "AMRs navigate with maps built from lidar and cameras; AGVs follow fixed guides."},
    {"key": "wh-avail", "type": "numeric", "category": "kpi", "points": 2,
     "prompt": "Planned operating time 20 h, downtime 30 minutes. What is the availability in percent?",
     "answer": 97.5, "tolerance": 0.05, "feedback": "(1200 − 30) / 1200 = 97.5 %"},
    {"key": "wh-accuracy", "type": "short", "category": "kpi", "points": 1,
     "prompt": "Which KPI is correct lines divided by picked lines? (two words)",
     "accepted": ["picking accuracy", "pick accuracy"], "case_sensitive": False, "feedback": ""},
]  # fmt: skip

MANIFEST = {
    "format": "educluster-course",
    "format_version": 1,
    "course": {
        "title": "Warehouse Automation Basics", "slug": "warehouse-automation-basics",
        "summary_file": "course.md", "level": "beginner", "estimated_hours": 8.0,
        "language": "en", "visibility": "cluster", "completion_mode": "all",
        "completion_count": None, "completion_min_grade": None, "cover": None,
    },
    "partners": [
        {"organization": "northfield", "role": "academic_lead"},
        {"organization": "globex", "role": "industry_partner"},
    ],
    "outcomes": [
        outcome("fa7be6bf-f906-4b8e-857d-48a9a7da901c", "manage warehouse operations", 1),
        outcome("e843973c-23dd-416a-8a9c-9e89512542fb", "logistics", 2),
        outcome("8dcbcabe-09f7-4d11-940d-125af57bbc40", "track key performance indicators", 2),
        outcome("f4a6e9f7-5cff-46c0-894c-59c20bb78694", "automation technology", 1),
    ],
    "attachments": [],
    "course_data": {"quiz": {"questions": QUESTIONS}},
    "modules": [
        {"title": "Automation in the warehouse", "summary": "", "activities": [
            {"key": "a1", "type": "lesson", "title": "From picker-to-goods to goods-to-person",
             "completion_rule": "viewed", "content": {"body": LESSON_G2P}},
            {"key": "a2", "type": "lesson", "title": "AGVs and AMRs",
             "completion_rule": "viewed", "content": {"body": LESSON_AGV}},
        ]},
        {"title": "Measuring performance", "summary": "", "activities": [
            {"key": "a3", "type": "lesson", "title": "Warehouse KPIs",
             "completion_rule": "viewed", "content": {"body": LESSON_KPI}},
            {"key": "a4", "type": "quiz", "title": "Quiz: warehouse automation",
             "completion_rule": "passed", "pass_mark": 75.0, "weight": 1.0,
             "outcomes": [outcome("f4a6e9f7-5cff-46c0-894c-59c20bb78694", "automation technology", 1)],
             "content": {"question_keys": ["wh-g2p", "wh-amr", "wh-avail", "wh-accuracy"],
                         "pass_mark": 75.0, "attempts_allowed": None, "time_limit_minutes": None,
                         "shuffle": False, "feedback_mode": "immediate"}},
        ]},
    ],
}  # fmt: skip

LEAN_SUMMARY = """\
A short course for production teams on Acme's shop floor, written with Northfield's industrial
engineering group: the eight wastes of lean production and 5S as the first, visible step.
"""

LESSON_WASTES = """\
Lean production calls everything that costs time or money without adding value for the
customer *waste* (muda). Remember them as **DOWNTIME**:

| Waste | Example at Acme |
|---|---|
| **D**efects | Reworking shafts with burrs |
| **O**verproduction | Turning parts for an order that was postponed |
| **W**aiting | Operators waiting for the first-article inspection |
| **N**on-utilised talent | Ideas from the night shift that nobody asks for |
| **T**ransport | Moving pallets twice between hall 2 and hall 3 |
| **I**nventory | Three weeks of bar stock beside the lathe |
| **M**otion | Walking to a shared tool cabinet |
| **E**xtra processing | Polishing a surface the customer does not see |

Start by observing one workstation for one hour and writing down every waste you see.
"""

LESSON_5S = """\
1. **Sort**: remove what is not needed at the workstation (red tag it).
2. **Set in order**: a place for everything, marked (shadow boards for tools).
3. **Shine**: clean, and inspect while cleaning: leaks and loose parts show up.
4. **Standardise**: write down and photograph the agreed state.
5. **Sustain**: short audits every week, by the team itself.

5S is not tidying up for a visit; it makes deviations visible at a glance.
"""

LEAN_MANIFEST = {
    "format": "educluster-course",
    "format_version": 1,
    "course": {
        "title": "Lean Manufacturing for Shop-Floor Teams", "slug": "lean-manufacturing-shop-floor",
        "summary_file": "course.md", "level": "beginner", "estimated_hours": 4.0,
        "language": "en", "visibility": "partners", "completion_mode": "all",
        "completion_count": None, "completion_min_grade": None, "cover": None,
    },
    "partners": [
        {"organization": "northfield", "role": "academic_lead"},
        {"organization": "acme", "role": "industry_partner"},
    ],
    "outcomes": [
        outcome("82fea746-853f-4f1b-8ab7-55de8619cccd", "lean manufacturing", 2),
        outcome("a276b1ad-c0b7-4b33-899c-0fbfcdbe0eee", "5S methodology", 2),
        outcome("0550431f-9c8b-4204-9c45-59bc5feacf06", "continuous improvement philosophies", 1),
    ],
    "attachments": [],
    "course_data": {},
    "modules": [
        {"title": "Seeing waste", "summary": "", "activities": [
            {"key": "a1", "type": "lesson", "title": "The eight wastes",
             "completion_rule": "viewed", "content": {"body": LESSON_WASTES}},
            {"key": "a2", "type": "lesson", "title": "5S in practice",
             "completion_rule": "viewed", "content": {"body": LESSON_5S}},
        ]},
    ],
}  # fmt: skip
