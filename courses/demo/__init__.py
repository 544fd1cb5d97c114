"""Demo course content for ``seed-demo``: real teaching material, written as course archives."""

CLUSTER_FRAMEWORK = "urn:educluster:framework:cluster"
LEVELS = ("aware", "practitioner", "proficient", "expert")


def outcome(esco_id: str, label: str, level: int) -> dict:
    """An archive outcome: a skill of the cluster framework (an ESCO concept) at ``level``."""
    return {
        "skill": f"http://data.europa.eu/esco/skill/{esco_id}",
        "label": label,
        "framework": CLUSTER_FRAMEWORK,
        "level": level,
        "level_name": LEVELS[level - 1],
    }
