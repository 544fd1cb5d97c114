"""The cluster's indicators: definitions, privacy, targets, and the one report every page, the
CLI and the API show (:func:`indicator_report`), so they cannot disagree.

A month that has a stored snapshot is read from it; any other period is computed live from the
shared domain (:mod:`lms.cluster.raw`). Counts of people under :data:`MIN_COUNT` about an
organization the viewer does not belong to, and rates or means resting on fewer people, are
shown as "fewer than 5".
"""

from __future__ import annotations

import enum
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, g, has_request_context
from sqlalchemy import func, select

from lms.cluster.models import IndicatorSnapshot, IndicatorTarget
from lms.cluster.periods import Period, last_months, month_of
from lms.cluster.raw import CLUSTER, RAW_KEYS, raw_figures
from lms.extensions import db
from lms.models import Organization

MIN_COUNT = 5
SUPPRESSED = "fewer than 5"


@dataclass(frozen=True)
class Indicator:
    """One indicator: how it is computed from the raw figures and how it is shown."""

    key: str
    label: str
    unit: str  # "count" | "people" | "percent" | "days" | "score" | "ratio"
    compute: Callable[[dict], tuple[float | None, float]]  # raw -> (value, people behind it)
    higher_is_better: bool = True
    eqavet: str = ""
    group: str = "Learning"


def _count(key: str) -> Callable[[dict], tuple[float | None, float]]:
    return lambda r: (r.get(key, 0), r.get(key, 0))


def _share(num: str, den: str) -> Callable[[dict], tuple[float | None, float]]:
    def compute(r: dict) -> tuple[float | None, float]:
        """num / den in percent, resting on den people."""
        base = r.get(den, 0)
        return (round(100 * r.get(num, 0) / base, 1) if base else None), base

    return compute


def _mean(total: str, count: str, digits: int = 1) -> Callable[[dict], tuple[float | None, float]]:
    def compute(r: dict) -> tuple[float | None, float]:
        """total / count, resting on count people."""
        n = r.get(count, 0)
        return (round(r.get(total, 0) / n, digits) if n else None), n

    return compute


def _median_days(r: dict) -> tuple[float | None, float]:
    n = r.get("days_count", 0)
    return (r.get("median_days") if n else None), n


def _partners_per_course(r: dict) -> tuple[float | None, float]:
    n = r.get("courses_codesigned", 0)
    # About courses, not people: never suppressed (base reported as a large number).
    return (round(r.get("partner_links", 0) / n, 1) if n else None), float("inf")


INDICATORS: tuple[Indicator, ...] = (
    Indicator("courses_codesigned", "Co-designed courses", "count",
              lambda r: (r.get("courses_codesigned", 0), float("inf")), group="Cooperation"),
    Indicator("partners_per_course", "Partners per co-designed course", "ratio",
              _partners_per_course, group="Cooperation"),
    Indicator("trainers", "Active trainers", "people", _count("trainers"), group="Cooperation"),
    Indicator("enrolled", "Learners enrolled", "people", _count("enrolled")),
    Indicator("active", "Learners active", "people", _count("active")),
    Indicator("completed", "Course completions", "people", _count("completed")),
    Indicator("participation_rate", "Participation rate in programmes", "percent",
              _share("enrolled", "learners"), eqavet="EQAVET 3"),
    Indicator("completion_rate", "Completion rate", "percent",
              _share("completion_num", "completion_den"), eqavet="EQAVET 4"),
    Indicator("median_days", "Median days to complete", "days", _median_days,
              higher_is_better=False),
    Indicator("lab_pass_rate", "Lab pass rate", "percent", _share("lab_passed", "lab_attempted")),
    Indicator("quiz_score", "Mean quiz score", "score", _mean("quiz_sum", "quiz_count")),
    Indicator("program_on_time", "Program on-time completion", "percent",
              _share("program_on_time", "program_due"), group="Programs"),
    Indicator("recert_compliance", "Re-certification compliance", "percent",
              _share("recert_ok", "recert_total"), group="Programs"),
    Indicator("skills_gained", "Skill levels gained", "people", _count("skills_gained"),
              group="Skills"),
    Indicator("demand_met", "Demanded headcount met", "percent",
              _share("demand_met", "demand_headcount"), group="Skills"),
    Indicator("placements_offered", "Placement seats offered", "count",
              lambda r: (r.get("placements_offered", 0), float("inf")), group="Placements"),
    Indicator("placements_filled", "Placement seats filled", "people",
              _count("placements_filled"), group="Placements"),
    Indicator("placements_completed", "Placements completed", "people",
              _count("placements_completed"), group="Placements"),
    Indicator("placements_hired", "Hired after placement", "people",
              _count("placements_hired"), group="Placements"),
    Indicator("placement_rate", "Placement rate after training", "percent",
              _share("placements_hired", "placements_completed"), eqavet="EQAVET 5",
              group="Placements"),
    Indicator("satisfaction", "Course satisfaction (1-5)", "score",
              _mean("satisfaction_sum", "eval_count"), group="Feedback"),
    Indicator("relevance", "Relevance to work (1-5)", "score",
              _mean("relevance_sum", "eval_count"), group="Feedback"),
    Indicator("skills_used", "Skills used at the workplace", "percent",
              _share("skills_used_yes", "follow_count"), eqavet="EQAVET 6", group="Feedback"),
)  # fmt: skip
BY_KEY = {i.key: i for i in INDICATORS}


# --- presentation ----------------------------------------------------------------------------
def format_value(indicator: Indicator, value: float | None) -> str:
    """The text of a value: "—" when there is no data, "%" for shares."""
    if value is None:
        return "—"
    if indicator.unit == "percent":
        return f"{value:.1f}%"
    if indicator.unit in ("count", "people"):
        return f"{int(value):,}"
    return f"{value:.1f}"


def figure(indicator: Indicator, raw: dict, own: bool) -> dict:
    """One indicator of one scope as shown: value, display text, and whether it was suppressed.

    ``own``: the viewer belongs to the organization the figure is about, so nothing is hidden.
    """
    value, base = indicator.compute(raw)
    if value is not None and indicator.unit in ("count", "people"):
        value = int(value)
    hidden = not own and indicator.unit != "count" and base < MIN_COUNT and value is not None
    if hidden:
        return {"value": None, "display": SUPPRESSED, "suppressed": True}
    return {"value": value, "display": format_value(indicator, value), "suppressed": False}


# --- targets ---------------------------------------------------------------------------------
class TargetStatus(enum.StrEnum):
    """Where an indicator stands against its target."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"


TARGET_LABELS = {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track"}
AT_RISK_MARGIN = 0.10  # within 10 % of the target: at risk


def target_status(indicator: Indicator, value: float | None, target: float) -> str | None:
    """On track / at risk / off track of ``value`` against ``target`` (None: no data yet)."""
    if value is None:
        return None
    if indicator.higher_is_better:
        if value >= target:
            return TargetStatus.ON_TRACK
        return (
            TargetStatus.AT_RISK
            if value >= target * (1 - AT_RISK_MARGIN)
            else TargetStatus.OFF_TRACK
        )
    if value <= target:
        return TargetStatus.ON_TRACK
    return (
        TargetStatus.AT_RISK if value <= target * (1 + AT_RISK_MARGIN) else TargetStatus.OFF_TRACK
    )


def targets_by_org() -> dict[int, dict[str, float]]:
    """Every target, {organization id: {indicator: target}} (one query)."""
    out: dict[int, dict[str, float]] = {}
    for t in db.session.scalars(select(IndicatorTarget)):
        out.setdefault(t.organization_id, {})[t.indicator] = t.target
    return out


# --- the report --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Viewer:
    """Who looks: the organizations they see in detail, and whether they see every partner."""

    org_ids: frozenset[int]
    all_partners: bool = False


def _snapshot_raw(months: list[str]) -> dict[str, dict[int | None, dict]]:
    """Stored snapshots of ``months``: {month: {org id or None: raw}} (one query)."""
    out: dict[str, dict[int | None, dict]] = {}
    if not months:
        return out
    for snap in db.session.scalars(
        select(IndicatorSnapshot).where(IndicatorSnapshot.month.in_(months))
    ):
        org = None if snap.scope == "cluster" else snap.organization_id
        if snap.scope != "cluster" and org is None:
            continue  # the organization was deleted; its figures still count in the cluster row
        out.setdefault(snap.month, {})[org] = json.loads(snap.data)
    return out


def live_raw(period: Period, now: datetime) -> dict[int | None, dict]:
    """``raw_figures`` of ``period`` as the pages and the API show them: computed once per
    request, and reused for ``CLUSTER_LIVE_SECONDS`` (default two minutes) by every request of
    this process, so a busy dashboard does not rescan a year of enrolments on each view."""
    if not has_request_context():
        return raw_figures(period, now)
    per_request = g.setdefault("cluster_raw", {})
    if period.name in per_request:
        return per_request[period.name]
    ttl = current_app.config.get("CLUSTER_LIVE_SECONDS", 0)
    shared = current_app.extensions.setdefault("cluster.live", {})
    cached = shared.get(period.name)
    if ttl > 0 and cached is not None and time.monotonic() - cached[0] < ttl:
        raw = cached[1]
    else:
        raw = raw_figures(period, now)
        if ttl > 0:
            shared[period.name] = (time.monotonic(), raw)
    per_request[period.name] = raw
    return raw


def period_raw(period: Period, now: datetime) -> tuple[dict[int | None, dict], bool]:
    """The raw figures of ``period`` and whether they were computed live (else: a snapshot)."""
    current = month_of(now)
    if period.kind == "month" and period.start < current.start:
        stored = _snapshot_raw([period.name]).get(period.name)
        if stored:
            return stored, False
    return live_raw(period, now), True


def _scope(raw: dict[int | None, dict], org_id: int | None) -> dict:
    return raw.get(org_id) or dict.fromkeys(RAW_KEYS, 0.0)


def visible_partners(viewer: Viewer) -> list[Organization]:
    """The partners whose indicators ``viewer`` sees in detail, by name."""
    stmt = select(Organization).order_by(func.lower(Organization.name))
    if not viewer.all_partners:
        stmt = stmt.where(Organization.id.in_(viewer.org_ids or [-1]))
    return list(db.session.scalars(stmt))


def indicator_report(
    period: Period, viewer: Viewer, now: datetime, org: Organization | None = None
) -> dict:
    """The indicators of ``period``: cluster totals and each partner the viewer may see.

    ``org`` narrows the partners to one (the viewer must be allowed to see it). A constant number
    of queries whatever the number of partners, people and months.
    """
    raw, live = period_raw(period, now)
    targets = targets_by_org()
    partners = [org] if org is not None else visible_partners(viewer)
    cluster_raw = _scope(raw, CLUSTER)
    report = {
        "period": {
            "name": period.name,
            "kind": period.kind,
            "start": period.start.date().isoformat(),
            "end": period.end.date().isoformat(),
            "live": live,
        },
        "indicators": [
            {"key": i.key, "label": i.label, "unit": i.unit, "eqavet": i.eqavet or None}
            for i in INDICATORS
        ],
        # The cluster total is about everyone's people: no viewer owns all of it.
        "cluster": {i.key: figure(i, cluster_raw, own=False) for i in INDICATORS},
        "partners": [],
    }
    for partner in partners:
        report["partners"].append(_partner_entry(partner, raw, viewer, targets.get(partner.id, {})))
    return report


def _partner_entry(partner: Organization, raw: dict, viewer: Viewer, org_targets: dict) -> dict:
    """One partner's part of the report: its figures (as the viewer may see them) and the
    status of each target set for it."""
    scope_raw = _scope(raw, partner.id)
    own = partner.id in viewer.org_ids
    target_rows = {}
    for key, target in org_targets.items():
        indicator = BY_KEY.get(key)
        if indicator is None:
            continue
        value, _base = indicator.compute(scope_raw)
        target_rows[key] = {"target": target, "status": target_status(indicator, value, target)}
    return {
        "organization": {
            "id": partner.id,
            "slug": partner.slug,
            "name": partner.name,
            "kind": partner.kind,
        },
        "indicators": {i.key: figure(i, scope_raw, own) for i in INDICATORS},
        "targets": target_rows,
    }


def trend(
    keys: list[str], viewer: Viewer, now: datetime, months: int = 12, org_id: int | None = None
) -> dict:
    """Monthly series of ``keys`` for the cluster (or one partner): snapshots for past months,
    the current month live. {"months": [...], "series": {key: [figure, ...]}} (constant queries)."""  # fmt: skip
    periods = last_months(now, months)
    stored = _snapshot_raw([p.name for p in periods[:-1]])
    live = live_raw(periods[-1], now)
    own = org_id is not None and org_id in viewer.org_ids
    series: dict[str, list[dict]] = {k: [] for k in keys}
    for period in periods:
        raw = live if period is periods[-1] else stored.get(period.name)
        for key in keys:
            if raw is None:
                series[key].append({"value": None, "display": "no snapshot", "suppressed": False})
            else:
                series[key].append(figure(BY_KEY[key], _scope(raw, org_id), own))
    return {"months": [p.name for p in periods], "series": series}
