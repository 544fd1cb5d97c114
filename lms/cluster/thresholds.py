"""The settings of the rules: each threshold's label, default and allowed range, read and saved
through the site settings (``cluster.<key>``)."""

from __future__ import annotations

from dataclasses import dataclass

from lms.errors import DomainError
from lms.settings import get_setting, set_setting


@dataclass(frozen=True)
class Threshold:
    """A setting of the rules: key, label, default, allowed range."""

    key: str
    label: str
    default: float
    low: float
    high: float
    hint: str = ""


THRESHOLDS = (
    Threshold("overdue_share", "Overdue share of a program (%)", 20, 1, 100,
              "Raise a signal when more than this share of a program's assignments is overdue."),
    Threshold("signoff_days", "Days a course may wait for a partner's sign-off", 14, 1, 365),
    Threshold("inactive_days", "Days without activity before learners count as inactive", 30, 1, 365),
    Threshold("lab_pass_rate", "Lowest lab pass rate (%)", 40, 1, 100),
    Threshold("lab_min_attempts", "Attempts before a lab's pass rate is judged", 20, 1, 10_000),
    Threshold("placement_days", "Days before its start a placement must be filled", 30, 1, 365),
    Threshold("followup_days", "Days after completion for the follow-up survey", 90, 1, 730),
)  # fmt: skip
THRESHOLD_BY_KEY = {t.key: t for t in THRESHOLDS}


def threshold(key: str) -> float:
    """The current value of a rule threshold (the default when never set or unreadable)."""
    spec = THRESHOLD_BY_KEY[key]
    try:
        value = float(get_setting(f"cluster.{key}", ""))
    except ValueError:
        return spec.default
    return value if spec.low <= value <= spec.high else spec.default


def save_thresholds(values: dict[str, str]) -> None:
    """Store every threshold from text; a :class:`DomainError` names the first bad one."""
    parsed = {}
    for spec in THRESHOLDS:
        raw = (values.get(spec.key) or "").strip()
        try:
            value = float(raw)
        except ValueError:
            raise DomainError(f"{spec.label}: write a number.", spec.key) from None
        if not spec.low <= value <= spec.high:
            raise DomainError(
                f"{spec.label}: choose a value from {spec.low:g} to {spec.high:g}.", spec.key
            )
        parsed[spec.key] = value
    for key, value in parsed.items():
        set_setting(f"cluster.{key}", f"{value:g}")
