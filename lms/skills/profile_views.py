"""Skill profiles: a person's own (self-assessment) and a trainer's validation of someone's level.

The profile itself is drawn by ``templates/skills/_profile.html`` from
:func:`lms.skills.supply.skill_profile`, on My learning, the HR transcript and the person page here.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.errors import DomainError
from lms.extensions import db
from lms.models import Organization, User
from lms.permissions import organizations_where
from lms.skills.models import Skill, SkillKind
from lms.skills.queries import skill_scales
from lms.skills.search import search_skills
from lms.skills.supply import assess_self, skill_profile, validate_skill
from lms.urls import parse_id

bp = Blueprint("skill_profile", __name__, url_prefix="/skills")


def _validating_orgs(person: User) -> list[Organization]:
    """The person's organizations in which the current user may validate skills."""
    theirs = person.organization_ids()
    return [o for o in organizations_where(current_user, "org.validate_skills") if o.id in theirs]


def _search_results():
    query = request.args.get("q", "").strip()
    if not query:
        return query, [], {}
    try:
        hits = search_skills(query, 10)
    except DomainError:
        return query, [], {}
    return query, hits, skill_scales([h.id for h in hits])


def _posted_skill_level() -> tuple[Skill, int]:
    skill_id = parse_id(request.form.get("skill_id"))
    skill = db.session.get(Skill, skill_id) if skill_id else None
    if skill is None or skill.kind != SkillKind.SKILL:
        raise DomainError("Choose a skill from the search results.", "skill_id")
    level = parse_id(request.form.get("level"))
    if level is None:
        raise DomainError("Choose a level.", "level")
    return skill, level


@bp.route("/me", methods=["GET", "POST"])
@login_required
def my_skills():
    """The learner's skill profile, and a self-assessment (shown apart, never counted)."""
    error = None
    if request.method == "POST":
        try:
            skill, level = _posted_skill_level()
            assess_self(current_user, skill, level)
            db.session.commit()
            flash(f"Saved your self-assessment of “{skill.preferred_label}”.", "success")
            return redirect(url_for(".my_skills"))
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
    query, hits, scales = _search_results()
    return render_template(
        "skills/my_skills.html",
        profile=skill_profile(current_user.id),
        query=query,
        hits=hits,
        scales=scales,
        error=error,
    ), (400 if error else 200)


def _posted_date(name: str) -> date | None:
    """A calendar date from the posted form (blank: None); anything else is refused."""
    raw = request.form.get(name, "").strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        raise DomainError("Give the date as a calendar date.", name) from None


@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
@login_required
def person(user_id: int):
    """A trainer or mentor validates a colleague's level, with a comment."""
    person = db.session.get(User, user_id)
    if person is None or not _validating_orgs(person):
        abort(404)
    error = None
    if request.method == "POST":
        try:
            skill, level = _posted_skill_level()
            validate_skill(
                person, skill, level, current_user, request.form.get("comment", ""),
                _posted_date("valid_until"),
            )  # fmt: skip
            db.session.commit()
            flash(f"Validated {person.name}'s level in “{skill.preferred_label}”.", "success")
            return redirect(url_for(".person", user_id=person.id))
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
    query, hits, scales = _search_results()
    return render_template(
        "skills/person.html",
        person=person,
        profile=skill_profile(person.id),
        query=query,
        hits=hits,
        scales=scales,
        error=error,
        form=request.form,
    ), (400 if error else 200)
