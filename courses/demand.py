"""Turning uncovered demand into a co-design request: a draft course with the demanded skills as
outcomes, led by the trainer's organization, the demanding organization invited as partner."""

from __future__ import annotations

from sqlalchemy import select

from courses.services import CourseData, create_course
from lms.domain.models import Course
from lms.errors import DomainError
from lms.extensions import db
from lms.skills.models import Skill
from lms.skills.services import set_course_outcomes


def start_codesign_request(
    chosen: list[dict], lead: int | None, lead_choices: set[int], user
) -> tuple[Course, bool]:
    """A draft course developing the chosen demanded skills, led by ``lead``, with the
    demanding organization invited as industry partner; returns it and whether one was invited."""
    if not chosen:
        raise DomainError("Tick the demanded skills the new course should develop.")
    if len({r["organization_id"] for r in chosen}) > 1:
        raise DomainError("Pick skills demanded by one organization or region at a time.")
    if lead not in lead_choices:
        raise DomainError("Choose your organization, which leads the course.")
    partner = chosen[0]["organization_id"]
    partners = [(lead, "academic_lead")]
    if partner is not None and partner != lead:
        partners.append((partner, "industry_partner"))
    labels = ", ".join(r["label"] for r in chosen[:3])
    wanted = "; ".join(f"{r['label']} at level {r['level_name']}" for r in chosen)
    course = create_course(
        CourseData(
            title=f"{labels[:150]} (co-design request)",
            summary=f"Requested by {chosen[0]['demanded_by']}: {wanted}.",
            partners=partners,
        ),
        user,
    )
    skills = {
        s.id: s
        for s in db.session.scalars(
            select(Skill).where(Skill.id.in_([r["skill_id"] for r in chosen]))
        )
    }
    set_course_outcomes(course, [(skills[r["skill_id"]], r["level"]) for r in chosen])
    return course, len(partners) > 1
