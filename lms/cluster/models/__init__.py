"""Cluster monitoring and evaluation: the tables of each feature, one module each.

Every table here is read and written by :mod:`lms.cluster`; the figures themselves come from the
shared domain (courses, enrolments, completions, programs, skill evidence) through set-based
queries in :mod:`lms.cluster.raw`. Import from here (``from lms.cluster.models import Placement``);
the modules say where to look: indicators (snapshots, targets, the live month's base), signals,
placements, funding (and ledger checkpoints), feedback (surveys), and the indexes the indicators
need on shared tables.
"""

from lms.cluster.models import indexes  # noqa: F401  (attaches the indexes to shared tables)
from lms.cluster.models.feedback import (
    FOLLOW_UP_KINDS,
    SurveyInvitation,
    SurveyKind,
    SurveyResponse,
)
from lms.cluster.models.funding import (
    FUNDING_KIND_LABELS,
    FundingDirection,
    FundingEntry,
    FundingKind,
    LedgerCheckpoint,
)
from lms.cluster.models.indicators import CohortBase, IndicatorSnapshot, IndicatorTarget
from lms.cluster.models.placements import (
    PLACEMENT_KIND_LABELS,
    ApplicationState,
    Placement,
    PlacementApplication,
    PlacementEvaluation,
    PlacementKind,
    PlacementOutcome,
    PlacementSkill,
    PlacementStatus,
)
from lms.cluster.models.signals import ClusterSignal, Severity, SignalState

__all__ = [
    "FOLLOW_UP_KINDS", "FUNDING_KIND_LABELS", "PLACEMENT_KIND_LABELS", "ApplicationState",
    "ClusterSignal", "CohortBase", "FundingDirection", "FundingEntry", "FundingKind", "IndicatorSnapshot",
    "IndicatorTarget", "LedgerCheckpoint", "Placement", "PlacementApplication",
    "PlacementEvaluation", "PlacementKind", "PlacementOutcome", "PlacementSkill",
    "PlacementStatus", "Severity", "SignalState", "SurveyInvitation", "SurveyKind",
    "SurveyResponse",
]  # fmt: skip
