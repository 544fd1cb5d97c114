"""The demo cluster's generated monthly history: 18 months of snapshots per partner and for the
cluster, plausible and growing, with the stocks of people anchored on today's real figures so
the month computed live continues each line."""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy import select

from lms.cluster.periods import last_months, month_of
from lms.cluster.raw import CLUSTER, RAW_KEYS, raw_figures
from lms.cluster.snapshots import store_snapshot
from lms.extensions import db
from lms.models import Organization

#: learners, trainers and whether the partner hosts placements and programs
PROFILES = {
    "northfield": (24, 6, False),
    "acme": (40, 4, True),
    "globex": (18, 3, True),
    "ril": (10, 5, False),
}


def _month_raw(rng: random.Random, slug: str, step: float) -> dict[str, float]:
    """Plausible figures of one partner in one month; ``step`` runs from 0 (oldest) to 1."""
    learners, trainers, hosts = PROFILES.get(slug, (20, 2, False))
    g = 0.6 + 0.4 * step
    enrolled = round(learners * (0.45 + 0.3 * g))
    completed = round(enrolled * 0.22 * g + rng.randint(0, 3))
    den = enrolled * 2
    evals = round(completed * 0.6)
    raw = dict.fromkeys(RAW_KEYS, 0.0)
    raw.update(
        courses_codesigned=1 + round(2 * step), partner_links=2 * (1 + round(2 * step)),
        trainers=trainers, learners=learners, enrolled=enrolled,
        active=round(enrolled * rng.uniform(0.6, 0.8)), completed=completed,
        completion_den=den, completion_num=round(den * (0.45 + 0.25 * g)),
        median_days=round(rng.uniform(18, 38), 1), days_count=completed,
        lab_attempted=round(enrolled * 1.4), quiz_count=round(enrolled * 1.1),
        skills_gained=completed * 2, eval_count=evals,
        satisfaction_sum=round(evals * rng.uniform(3.8, 4.5)),
        relevance_sum=round(evals * rng.uniform(3.5, 4.3)),
    )  # fmt: skip
    raw["lab_passed"] = round(raw["lab_attempted"] * (0.5 + 0.25 * g))
    raw["quiz_sum"] = round(raw["quiz_count"] * rng.uniform(66, 82))
    if hosts:
        due = rng.randint(8, 16)
        offered = rng.randint(4, 8)
        done = rng.randint(2, 4)
        raw.update(
            program_due=due, program_on_time=round(due * (0.6 + 0.3 * g)),
            recert_total=20, recert_ok=round(20 * (0.75 + 0.2 * g)),
            demand_headcount=12, demand_met=round(12 * (0.3 + 0.5 * step)),
            placements_offered=offered, placements_filled=round(offered * (0.6 + 0.3 * g)),
            placements_completed=done, placements_hired=round(done * (0.4 + 0.3 * g)),
            follow_count=6, skills_used_yes=round(6 * (0.5 + 0.4 * g)),
        )  # fmt: skip
    return raw


#: Stocks of people (learners, the cohort): their history grows towards today's real figures, so
#: the month computed live continues each line instead of jumping away from the generated ones.
ANCHORED = ("learners", "enrolled", "active", "completion_den")


def _anchor(figures: dict, today: dict, step: float, rng: random.Random) -> None:
    """Scale a generated month's stocks to a share of today's figures (80% oldest to 100%), and
    its completions to a completion rate rising towards today's."""
    if not today.get("enrolled"):
        return  # nobody in training today: keep the generated profile
    factor = (0.8 + 0.2 * step) * rng.uniform(0.96, 1.04)
    for key in ANCHORED:
        figures[key] = round(today.get(key, 0) * factor)
    rate = (
        today.get("completion_num", 0) / today["completion_den"]
        if today.get("completion_den")
        else 0
    )
    figures["completion_num"] = min(
        figures["completion_den"], round(figures["completion_den"] * rate * (0.85 + 0.15 * step))
    )
    figures["active"] = min(figures["active"], figures["enrolled"])


def seed_history(now: datetime) -> None:
    """18 past months of snapshots for every partner and the cluster."""
    rng = random.Random(11)
    orgs = db.session.scalars(select(Organization).order_by(Organization.id)).all()
    today = raw_figures(month_of(now), now)
    months = last_months(now, 19)[:-1]
    for i, period in enumerate(months):
        raw: dict[int | None, dict] = {}
        step = i / (len(months) - 1)
        for org in orgs:
            raw[org.id] = _month_raw(rng, org.slug, step)
            _anchor(raw[org.id], today.get(org.id, {}), step, rng)
        total = dict.fromkeys(RAW_KEYS, 0.0)
        for figures in raw.values():
            for key, value in figures.items():
                total[key] += value
        total["median_days"] = round(
            sum(f["median_days"] for f in raw.values()) / max(len(raw), 1), 1
        )
        total["courses_codesigned"] = max(f["courses_codesigned"] for f in raw.values())
        total["partner_links"] = 2 * total["courses_codesigned"]
        # The cluster counts each person once (a sum of partners would not): anchored on its own.
        _anchor(total, today.get(CLUSTER, {}), step, rng)
        raw[CLUSTER] = total
        store_snapshot(period, raw, period.end)
