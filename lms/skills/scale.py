"""Skills for the synthetic scale cluster (``flask --app app lms seed-scale``): a framework of 60
skills, outcomes on the scale courses, 20 skills of evidence per employee and the demand of 50
organizations (5 job roles of 8 skills each), bulk-inserted like the rest of the scale seed.

Runs after :func:`lms.progress.scale.seed_scale` (it reads the employees and courses that made),
registered as a scale step so progress never imports skills.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from lms.domain.models import Course
from lms.errors import DomainError
from lms.extensions import db
from lms.models import Membership, Organization, Role, User
from lms.progress.scale import BATCH, bulk_insert, bulk_insert_ids
from lms.skills.gap_models import EvidenceKind, JobRole, RoleSkill, SkillEvidence
from lms.skills.holders import recount_holdings
from lms.skills.models import DEFAULT_SCALE, CourseOutcome, Framework, ProficiencyLevel, Skill
from lms.timeutil import utcnow

SKILLS = 60
PER_PERSON = 20
ORGANIZATIONS = 50  # the scale enterprises, then more demanding organizations up to this many
ROLES_PER_ORG = 5
SKILLS_PER_ROLE = 8
TOPICS = (
    "statistical process control", "data cleansing", "predictive maintenance", "lean manufacturing",
    "Python programming", "SQL reporting", "machine safety", "quality audits", "root cause analysis",
    "supply chain planning", "PLC programming", "energy monitoring", "technical documentation",
    "team leadership", "customer complaints handling",
)  # fmt: skip
FACETS = ("fundamentals", "applied", "advanced", "coaching")
EVIDENCE_KINDS = (
    EvidenceKind.COURSE, EvidenceKind.COURSE, EvidenceKind.ACTIVITY,
    EvidenceKind.VALIDATION, EvidenceKind.SELF,
)  # fmt: skip


def _framework(now: datetime) -> list[int]:
    """The scale framework with the default scale and its skills; returns the skill ids."""
    framework = Framework(slug="scale", uri="urn:educluster:scale", name="Scale framework",
                          description="Synthetic skills for load tests.", created_at=now,
                          updated_at=now)  # fmt: skip
    db.session.add(framework)
    db.session.flush()
    bulk_insert(ProficiencyLevel, [{"framework_id": framework.id, "rank": rank, "name": name,
                              "description": "", "is_default": rank == 1,
                              "proficient": rank >= 3}
                             for rank, name in enumerate(DEFAULT_SCALE, start=1)])  # fmt: skip
    return bulk_insert_ids(
        Skill,
        [{"framework_id": framework.id, "kind": "skill", "uri": f"urn:educluster:scale:{i + 1}",
          "preferred_label": f"{TOPICS[i % len(TOPICS)]} ({FACETS[i // len(TOPICS) % 4]})",
          "alt_labels": "", "description": "", "position": i} for i in range(SKILLS)],
    )  # fmt: skip


def _organizations(now: datetime) -> list[int]:
    """The scale enterprises, then new demanding organizations up to ORGANIZATIONS."""
    existing = list(
        db.session.scalars(
            select(Organization.id)
            .where(Organization.slug.like("scale-%"))
            .order_by(Organization.id)
        )
    )
    more = bulk_insert_ids(
        Organization,
        [{"slug": f"scale-demand-{i + 1}", "name": f"Scale Demand Partner {i + 1}",
          "kind": "enterprise", "description": "Synthetic organization stating demand.",
          "created_at": now} for i in range(max(0, ORGANIZATIONS - len(existing)))],
    )  # fmt: skip
    return existing + more


def seed_skill_scale(seed: int = 2026, now: datetime | None = None) -> dict[str, int]:
    """Skill profiles and demand for the scale cluster; returns what was inserted. The caller
    commits."""
    rng = random.Random(seed + 10)
    now = now or utcnow()
    if db.session.scalar(select(Framework.id).where(Framework.slug == "scale")) is not None:
        raise DomainError("The database already holds the scale skills (framework “scale”).")
    skill_ids = _framework(now)
    outcomes = _course_outcomes(rng, skill_ids)
    org_ids = _organizations(now)
    evidence = _evidence(rng, skill_ids, now)
    role_ids = _demand(rng, skill_ids, org_ids, now)
    db.session.flush()
    recount_holdings(now)  # the bulk inserts bypass the session hook that keeps the gap counts
    return {"skills": len(skill_ids), "course_outcomes": outcomes,
            "skill_evidence": evidence, "demand_organizations": len(org_ids),
            "job_roles": len(role_ids)}  # fmt: skip


def _course_outcomes(rng: random.Random, skill_ids: list[int]) -> int:
    """Each scale course develops three skills, so enrolments feed the pipeline. Returns how
    many outcomes were inserted."""
    courses = list(db.session.scalars(select(Course.id).where(Course.slug.like("scale-course-%"))))
    outcomes = {(c, s): rng.randint(2, 4) for c in courses for s in rng.sample(skill_ids, 3)}
    bulk_insert(CourseOutcome, [{"course_id": c, "skill_id": s, "level": level}
                          for (c, s), level in outcomes.items()])  # fmt: skip
    return len(outcomes)


def _evidence(rng: random.Random, skill_ids: list[int], now: datetime) -> int:
    """Skill evidence of every scale employee (some lapsed), in batches; returns the count."""
    employees = (
        db.session.execute(
            select(User.id)
            .join(Membership, Membership.user_id == User.id)
            .join(Organization, Organization.id == Membership.organization_id)
            .where(Organization.slug.like("scale-%"), Membership.role == Role.LEARNER)
            .order_by(User.id)
        )
        .scalars()
        .all()
    )
    evidence = 0
    rows: list[dict] = []
    for user_id in employees:
        for skill_id in rng.sample(skill_ids, PER_PERSON):
            lapsed = rng.random() < 0.1  # a re-certification that ran out
            rows.append(
                {"user_id": user_id, "skill_id": skill_id, "kind": rng.choice(EVIDENCE_KINDS),
                 "level": rng.randint(1, 4), "comment": "",
                 "earned_at": now - timedelta(days=rng.randint(1, 700)),
                 "expires_at": now - timedelta(days=1) if lapsed else None}
            )  # fmt: skip
        if len(rows) >= BATCH:
            bulk_insert(SkillEvidence, rows)
            evidence, rows = evidence + len(rows), []
    if rows:
        bulk_insert(SkillEvidence, rows)
        evidence += len(rows)
    return evidence


def _demand(rng: random.Random, skill_ids: list[int], org_ids: list[int], now: datetime):
    """Job roles of the demand organizations with the skills each needs; returns their ids."""
    role_rows = [
        {"organization_id": org, "region": "", "title": f"Role {r + 1} of organization {i + 1}",
         "headcount": rng.randint(1, 25), "description": "",
         "needed_by": (now + timedelta(days=rng.randint(30, 400))).date(), "created_at": now}
        for i, org in enumerate(org_ids) for r in range(ROLES_PER_ORG)
    ]  # fmt: skip
    role_ids = bulk_insert_ids(JobRole, role_rows)
    bulk_insert(RoleSkill, [{"role_id": role_id, "skill_id": s, "level": rng.randint(1, 4)}
                      for role_id in role_ids
                      for s in rng.sample(skill_ids, SKILLS_PER_ROLE)])  # fmt: skip
    return role_ids
