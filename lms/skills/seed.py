"""The demo cluster's skill framework: 61 skills in six categories, each an ESCO concept."""

from __future__ import annotations

from pathlib import Path

from lms.skills.csvformats import read_framework
from lms.skills.frameworks import save_framework

CLUSTER_FRAMEWORK_FILE = Path(__file__).parent / "data" / "cluster_framework.csv"


def seed_cluster_framework() -> None:
    """Load (or bring up to date) the cluster framework from its ESCO-layout CSV; idempotent."""
    save_framework(read_framework(CLUSTER_FRAMEWORK_FILE.read_bytes(), "esco"))
