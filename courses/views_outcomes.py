"""Authoring outcomes: the skills, and the level of each, that a course or an activity develops.

Courses always carry outcomes; activities only when their type declares it (labs, quizzes:
``ActivityType.develops_skills``). Skills come from every loaded framework (ESCO, the cluster's
own): the add form searches them (server-side, and live with ``skills.js``) and posts a skill id.
"""

from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from courses.blueprint import activity_or_404, bp, course_or_404, flash_error
from courses.forms import ConfirmForm
from lms.domain.services import mark_course_edited
from lms.errors import DomainError
from lms.extensions import db
from lms.plugins import activity_registry
from lms.skills.queries import outcome_rows, skills_by_ids
from lms.skills.search import search_skills
from lms.skills.services import SkillError, set_activity_outcomes, set_course_outcomes

ID_RE = re.compile(r"[0-9]{1,9}")  # ASCII digits that fit the database's integers
LEVEL_RE = re.compile(r"[0-9]{1,3}")


def _posted_change(current: dict[int, int]) -> dict[int, int]:
    """The outcomes after the posted action (add, level or remove) on ``current``."""
    action = request.form.get("action", "")
    raw_id = request.form.get("skill_id", "")
    if not ID_RE.fullmatch(raw_id):
        raise SkillError("Choose a skill from the list.", "skill")
    skill_id = int(raw_id)
    skill = skills_by_ids([skill_id]).get(skill_id)
    if skill is None:
        raise SkillError("That skill does not exist (any more): search for it again.", "skill")
    wanted = dict(current)
    if action == "remove":
        wanted.pop(skill_id, None)
        return wanted
    if action not in ("add", "level"):
        raise SkillError("Choose what to do with the skill.", "action")
    raw_level = request.form.get("level", "")
    if not LEVEL_RE.fullmatch(raw_level):
        raise SkillError("Choose a level.", "level")
    level = int(raw_level)
    if action == "add" and skill_id in current:
        raise SkillError(f"“{skill.preferred_label}” is already an outcome: change its level.")
    wanted[skill_id] = level
    return wanted


def _apply(owner, setter) -> bool:
    current = {o.skill_id: o.level for o in owner.outcomes}
    wanted = _posted_change(current)
    skills = skills_by_ids(list(wanted))
    return setter(owner, [(skills[sid], level) for sid, level in wanted.items()])


def _page(course, owner, title: str, back: str, activity=None):
    query = request.args.get("q", "").strip()[:200]
    results, error = [], None
    if query:
        try:
            results = search_skills(query, limit=15)
        except SkillError as exc:
            error = exc.message
    rows = outcome_rows(owner.outcomes)
    current = {r["skill_id"] for r in rows}
    return render_template(
        "courses/outcomes.html",
        course=course,
        activity=activity,
        title=title,
        back=back,
        rows=rows,
        levels={o.skill_id: o.skill.framework.levels for o in owner.outcomes},
        query=query,
        results=[r for r in results if r.id not in current],
        result_levels=_levels_for(results),
        search_error=error,
        confirm=ConfirmForm(),
        esco_shown=any(r["esco"] for r in rows) or any(r.esco for r in results),
    )


def _levels_for(results) -> dict[int, list]:
    skills = skills_by_ids([r.id for r in results])
    return {sid: s.framework.levels for sid, s in skills.items()}


@bp.route("/<slug>/outcomes", methods=["GET", "POST"])
@login_required
def course_outcomes(slug: str):
    """The skills a course develops, and at which level."""
    course = course_or_404(slug, "course.edit")
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        try:
            if _apply(course, set_course_outcomes):
                mark_course_edited(course)
        except DomainError as exc:
            flash_error(exc)
        else:
            db.session.commit()
            flash("Outcomes saved.", "success")
        return redirect(
            url_for("courses.course_outcomes", slug=slug, q=request.form.get("q") or None)
        )
    return _page(
        course, course, f"Outcomes of {course.title}", url_for("courses.structure_page", slug=slug)
    )


@bp.route("/<slug>/activities/<int:activity_id>/outcomes", methods=["GET", "POST"])
@login_required
def activity_outcomes(slug: str, activity_id: int):
    """The skills passing an activity (a lab, a quiz) shows, and at which level."""
    course = course_or_404(slug, "course.edit")
    activity = activity_or_404(course, activity_id)
    atype = activity_registry().get(activity.type)
    if atype is None or not atype.develops_skills:
        abort(404)
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        try:
            if _apply(activity, set_activity_outcomes):
                mark_course_edited(course)
        except DomainError as exc:
            flash_error(exc)
        else:
            db.session.commit()
            flash("Outcomes saved.", "success")
        return redirect(
            url_for(
                "courses.activity_outcomes",
                slug=slug,
                activity_id=activity_id,
                q=request.form.get("q") or None,
            )
        )
    back = url_for("courses.edit_activity", slug=slug, activity_id=activity_id)
    return _page(course, activity, f"Outcomes of {activity.title}", back, activity=activity)
