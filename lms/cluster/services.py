"""Targets per partner and indicator (set by the cluster admin)."""

from __future__ import annotations

import math

from sqlalchemy import delete, select

from lms.cluster.indicators import INDICATORS
from lms.cluster.models import IndicatorTarget
from lms.extensions import db
from lms.models import Organization, User

TARGET_MAX = 1_000_000


class TargetErrors(Exception):
    """Some target values were not numbers in range: {indicator key: message}."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def targets_of(org_id: int) -> dict[str, float]:
    """The targets of one partner: {indicator: target}."""
    return {
        t.indicator: t.target
        for t in db.session.scalars(
            select(IndicatorTarget).where(IndicatorTarget.organization_id == org_id)
        )
    }


def _parse(indicator, raw: str) -> float | None:
    if raw == "":
        return None
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        raise ValueError(f"{indicator.label}: write a number, such as 80.") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{indicator.label}: the target cannot be negative.")
    if indicator.unit == "percent" and value > 100:
        raise ValueError(f"{indicator.label}: a share is at most 100 (%).")
    if indicator.unit == "score" and value > 100:
        raise ValueError(f"{indicator.label}: scores are at most 100.")
    if value > TARGET_MAX:
        raise ValueError(f"{indicator.label}: keep the target under {TARGET_MAX:,}.")
    return value


def set_targets(org: Organization, values: dict[str, str], by: User) -> None:
    """Replace ``org``'s targets with ``values`` (text per indicator); all or nothing."""
    parsed, errors = {}, {}
    for indicator in INDICATORS:
        try:
            parsed[indicator.key] = _parse(indicator, values.get(indicator.key, ""))
        except ValueError as exc:
            errors[indicator.key] = str(exc)
    if errors:
        raise TargetErrors(errors)
    db.session.execute(delete(IndicatorTarget).where(IndicatorTarget.organization_id == org.id))
    for key, value in parsed.items():
        if value is not None:
            db.session.add(
                IndicatorTarget(
                    organization_id=org.id, indicator=key, target=value, set_by_id=by.id
                )
            )
    db.session.flush()
