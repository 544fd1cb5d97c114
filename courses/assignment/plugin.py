"""The assignment activity type: text and/or files graded by a person, with an optional rubric
and peer review."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import render_template, url_for
from markupsafe import Markup
from sqlalchemy import select

from courses.assignment import services
from courses.assignment.forms import AssignmentForm, SubmissionForm
from courses.assignment.models import (
    Assignment,
    AssignmentExtension,
    AssignmentGrade,
    AssignmentSubmission,
    GradingMethod,
)
from courses.assignment.queries import grading_overview
from courses.assignment.rubric import FINAL_RULE, RubricError, max_points, parse_rubric_text
from courses.assignment.rubric import rubric_text as format_rubric
from courses.assignment.settings import apply_settings, clean_settings, settings_content
from courses.assignment.views import bp, learner_context
from lms.domain.models import Activity
from lms.domain.services import active_enrolment, mark_course_edited
from lms.errors import DomainError
from lms.extensions import db
from lms.main import register_dashboard_panel
from lms.models import User
from lms.permissions import can
from lms.plugins import ActivityType, DueDate, GradebookEntry

__all__ = ["Assignment", "AssignmentType"]

MB = 1024 * 1024


def _field_of(message: str) -> str:
    lowered = message.lower()
    for word, name in (("rubric", "rubric"), ("criterion", "rubric"), ("level", "rubric"),
                       ("file", "file_types"), ("cut-off", "cutoff_at"), ("peer", "peer_count"),
                       ("score", "max_score"), ("text, files", "submit_text")):  # fmt: skip
        if word in lowered:
            return name
    return "instructions"


class AssignmentType(ActivityType):
    """The assignment activity type (Moodle's mod_assign)."""

    key = "assignment"
    label = "Assignment"
    xapi_activity_type = "http://adlnet.gov/expapi/activities/assessment"
    model = Assignment
    form = AssignmentForm
    blueprint = bp
    description = (
        "Work handed in as text or files by a due date and graded by a person with a score or a "
        "rubric; optionally reviewed by peers."
    )
    icon = "assignment"
    completion_rules = ("none", "viewed", "submitted", "graded", "passed")
    rule_labels = {"graded": "The work is graded (and grades released)"}
    graded = True

    def init_app(self, app) -> None:
        """Register the blueprint and the "Work to grade" dashboard panel."""
        super().init_app(app)
        register_dashboard_panel(app, "assignment.to_grade", _grading_panel, order=35)

    # --- authoring ---------------------------------------------------------------------------
    def new_activity(self, **common: Any) -> Activity:
        """A new, unsaved assignment with the defaults (text hand-in, a score out of 100)."""
        common.setdefault("pass_mark", 50.0)
        return Assignment(submit_text=True, submit_files=False, file_types=[], rubric=[],
                          grading="score", max_score=100.0, resubmission="until_graded",
                          max_files=3, max_file_bytes=5 * MB, peer_review=False, peer_count=2,
                          peer_weight=20.0, **common)  # fmt: skip

    def form_data(self, activity: Assignment) -> dict[str, Any]:
        """The settings as the authoring form shows them (a rubric as text, sizes in MB)."""
        return {
            "instructions": activity.instructions or "",
            "submit_text": bool(activity.submit_text),
            "submit_files": bool(activity.submit_files),
            "file_types": ", ".join(activity.file_types or []),
            "max_file_mb": Decimal(str(round((activity.max_file_bytes or 5 * MB) / MB, 1))),
            "max_files": activity.max_files,
            "due_at": activity.due_at,
            "cutoff_at": activity.cutoff_at,
            "resubmission": activity.resubmission,
            "grading": activity.grading,
            "max_score": activity.max_score,
            "rubric": format_rubric(activity.rubric or []),
            "peer_review": bool(activity.peer_review),
            "peer_count": activity.peer_count,
            "peer_weight": activity.peer_weight,
            "graders": ", ".join(g.user.email for g in activity.graders),
        }

    def apply_form(self, activity: Assignment, data: dict[str, Any], author: User) -> None:
        """Validate and store the settings; a rubric is written in the text format."""
        try:
            rubric = parse_rubric_text(data.get("rubric") or "")
        except RubricError as exc:
            raise DomainError(str(exc), field="rubric") from None
        content = {
            **data,
            "rubric": rubric,
            "max_file_bytes": int(float(data.get("max_file_mb") or 5) * MB),
            "max_score": float(data.get("max_score") or 100),
            "peer_count": int(data.get("peer_count") or 2),
            "peer_weight": float(
                data["peer_weight"] if data.get("peer_weight") is not None else 20
            ),
        }
        try:
            clean = clean_settings(content)
        except ValueError as exc:
            message = str(exc)
            raise DomainError(message[:1].upper() + message[1:] + ".", _field_of(message)) from None
        graders = self._graders(data.get("graders") or "", activity.course)
        before = settings_content(activity) if activity.id is not None else None
        apply_settings(activity, clean)
        if activity.id is None:
            db.session.add(activity)
            db.session.flush()
        services.set_graders(activity, graders)
        if before is not None and before != settings_content(activity) and activity.course:
            mark_course_edited(activity.course)

    @staticmethod
    def _graders(text: str, course) -> list[User]:
        emails = sorted({e.strip().lower() for e in text.split(",") if e.strip()})
        if len(emails) > 20:
            raise DomainError("Name at most 20 additional graders.", "graders")
        users = (
            list(db.session.scalars(select(User).where(User.email.in_(emails)))) if emails else []
        )
        unknown = set(emails) - {u.email.lower() for u in users}
        if unknown:
            raise DomainError(
                f"No account uses {', '.join(sorted(unknown))}: graders need an account.",
                "graders",
            )
        # Graders read learners' work: only people of the course's partner organizations.
        partners = course.partner_org_ids if course is not None else set()
        outside = sorted(u.email for u in users if not (u.organization_ids() & partners))
        if outside:
            raise DomainError(
                f"{', '.join(outside)} {'is' if len(outside) == 1 else 'are'} not in a partner "
                "organization of this course; graders must be.",
                "graders",
            )
        return users

    def author_links(self, activity: Assignment) -> list[tuple[str, str]]:
        """Links for the authoring page: the grading queue and the extensions (once saved)."""
        if activity.id is None:
            return []
        return [
            ("Grading queue", url_for("assignment.queue", activity_id=activity.id)),
            ("Extensions", url_for("assignment.extensions", activity_id=activity.id)),
        ]

    # --- learning ----------------------------------------------------------------------------
    def render(self, activity: Assignment, user: User) -> Markup:
        """The assignment's part of the learner's activity page (and the staff's view of it)."""
        staff = can(user, "course.manage", activity.course) or services.is_grader(activity, user)
        enrolled = active_enrolment(user.id, activity.course_id) is not None
        ctx = learner_context(activity, user) if enrolled else {}
        return Markup(
            render_template(
                "assignment/_activity.html",
                assignment=activity,
                staff=staff,
                enrolled=enrolled,
                final_rule=FINAL_RULE,
                rubric_max=max_points(activity.rubric) if activity.rubric else None,
                form=SubmissionForm(text=ctx["submission"].text if ctx.get("submission") else ""),
                **ctx,
            )
        )

    def learner_summary(self, activity: Assignment, user: User) -> dict[str, Any]:
        """The learner's submission status and released grade, for HR's transcript."""
        sub = services.submission_of(activity, user.id)
        grade = sub.grade if sub is not None and activity.released else None
        return {
            "status": sub.status if sub else None,
            "grade": grade.final_score if grade else None,
        }

    # --- grades and dates --------------------------------------------------------------------
    def gradebook_entries(self, activities, user_ids):
        """Grades of these assignments per (activity, user) for the gradebook, released or not."""
        by_id = {a.id: a for a in activities}
        stmt = (
            select(AssignmentSubmission.assignment_id, AssignmentSubmission.user_id,
                   AssignmentGrade.final_score, AssignmentGrade.feedback)
            .join(AssignmentGrade, AssignmentGrade.submission_id == AssignmentSubmission.id)
            .where(AssignmentSubmission.assignment_id.in_(list(by_id)))
        )  # fmt: skip
        if user_ids is not None:
            stmt = stmt.where(AssignmentSubmission.user_id.in_(user_ids))
        return {
            (aid, uid): GradebookEntry(score, feedback or "", by_id[aid].released)
            for aid, uid, score, feedback in db.session.execute(stmt)
        }

    def due_dates(self, activities, user_id):
        """Due dates and cut-offs of these assignments for one learner, with their extensions."""
        ids = [a.id for a in activities]
        extensions = dict(
            db.session.execute(
                select(AssignmentExtension.assignment_id, AssignmentExtension.due_at).where(
                    AssignmentExtension.assignment_id.in_(ids),
                    AssignmentExtension.user_id == user_id,
                )
            ).all()
        ) if ids else {}  # fmt: skip
        out = []
        for a in activities:
            due = extensions.get(a.id, a.due_at)
            if due is not None:
                out.append(DueDate(a.id, a.title, due, "due"))
            if a.cutoff_at is not None and a.id not in extensions and a.cutoff_at != a.due_at:
                out.append(DueDate(a.id, a.title, a.cutoff_at, "cutoff"))
        return out

    # --- archive -----------------------------------------------------------------------------
    def export_content(self, activity: Assignment, files: dict[str, bytes]) -> dict[str, Any]:
        """The assignment's settings for the course archive."""
        return settings_content(activity)

    def import_content(
        self, activity: Assignment, content: dict[str, Any], files: dict[str, bytes]
    ) -> None:
        """Store settings from a course archive, cleaned as the authoring form cleans them."""
        apply_settings(activity, clean_settings(content))


def _grading_panel(user) -> Markup | None:
    """Assignments the user grades, with the work waiting (enterprise graders start here)."""
    rows = grading_overview(user)
    if not rows:
        return None
    return Markup(render_template("assignment/_dashboard_panel.html", rows=rows))


def grading_method_label(assignment: Assignment) -> str:
    """How the assignment is graded, in words."""
    return "Rubric" if assignment.grading == GradingMethod.RUBRIC else "Score"
