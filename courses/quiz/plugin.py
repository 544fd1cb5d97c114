"""The quiz activity type: questions from the course's bank, graded attempts."""

from __future__ import annotations

from typing import Any

from flask import render_template, url_for
from markupsafe import Markup
from sqlalchemy import select

from courses.quiz.attempts import attempts_left, best_attempt, close_overdue, user_attempts
from courses.quiz.bank import course_categories, course_questions, export_bank, import_bank
from courses.quiz.forms import QuizSettingsForm, settings_content
from courses.quiz.models import (
    FEEDBACK_MODES,
    QUESTION_TYPES,
    AttemptState,
    Quiz,
    QuizAttempt,
    QuizQuestion,
)
from courses.quiz.settings import apply_settings, check_against_bank, clean_settings
from courses.quiz.settings import settings_content as archive_content
from courses.quiz.views import bp
from lms.domain.models import Activity
from lms.domain.services import active_enrolment, mark_course_edited
from lms.errors import DomainError
from lms.extensions import db
from lms.models import User
from lms.pagecache import expires_at
from lms.permissions import can
from lms.plugins import ActivityType, DueDate, GradebookEntry
from lms.progress.models import ActivityCompletion

__all__ = ["Quiz", "QuizAttempt", "QuizQuestion", "QuizType"]


class QuizType(ActivityType):
    """The quiz activity type: questions from the course bank, timed attempts."""

    key = "quiz"
    label = "Quiz"
    xapi_activity_type = "http://adlnet.gov/expapi/activities/assessment"
    model = Quiz
    form = QuizSettingsForm
    blueprint = bp
    description = (
        "Questions from the course's question bank: choice, true/false, numeric and short "
        "answers, graded at once, with attempts, time limit and feedback settings."
    )
    icon = "quiz"
    completion_rules = ("none", "viewed", "submitted", "passed")
    graded = True
    develops_skills = True
    cluster_measure = "assessment"

    # --- authoring ---------------------------------------------------------------------------
    def new_activity(self, **common: Any) -> Activity:
        """New quiz with a fixed, empty selection and a 50 % pass mark."""
        common.setdefault("pass_mark", 50.0)
        return Quiz(selection="fixed", question_keys=[], shuffle=False,
                    feedback_mode="immediate", **common)  # fmt: skip

    def form_data(self, activity: Activity) -> dict[str, Any]:
        """Quiz settings for the activity form."""
        return {
            "course_id": activity.course_id,
            "selection": activity.selection or "fixed",
            "question_keys": list(activity.question_keys or []),
            "random_category": activity.random_category or "",
            "random_count": activity.random_count,
            "attempts_allowed": activity.attempts_allowed,
            "time_limit_minutes": activity.time_limit_minutes,
            "shuffle": bool(activity.shuffle),
            "feedback_mode": activity.feedback_mode or "immediate",
            "close_at": activity.close_at,
        }

    def prepare_form(
        self, form: Any, course: Any, activity: Activity | None, module: Any = None
    ) -> None:
        """The bank's questions to pick from, and links to write a new one and come back."""
        picker = form.question_keys
        picker.bank = course_questions(course.id)
        picker.bank_url = url_for("quiz.questions", course_id=course.id)
        back = (
            {"for_quiz": activity.id}
            if activity is not None and activity.id is not None
            else {"for_module": module.id}
            if module is not None
            else {}
        )
        picker.create_links = [
            (label, url_for("quiz.new_question", course_id=course.id, qtype=qtype, **back))
            for qtype, label in QUESTION_TYPES.items()
        ]
        categories = [c for c in course_categories(course.id) if c]
        if categories:
            form.random_category.description = (
                "For a random draw: a category of the question bank ("
                + ", ".join(categories)
                + ")."
            )
        # The course is the page's, never what the posted hidden field claims.
        form.course_id.data = str(course.id)

    def apply_form(self, activity: Activity, data: dict[str, Any], author: User) -> None:
        """Store validated settings; questions are checked against the course's bank. The pass
        mark is the activity's common field (the generic form edits it), not part of ``data``."""
        try:
            clean = clean_settings(settings_content(data))
            if activity.course_id is not None:
                check_against_bank(activity.course_id, clean)
        except ValueError as exc:
            raise DomainError(f"Quiz settings: {exc}.", field="question_keys") from None
        before = archive_content(activity) if activity.id is not None else None
        apply_settings(activity, clean, pass_mark=False)
        if before is not None and before != archive_content(activity) and activity.course:
            mark_course_edited(activity.course)

    def author_links(self, activity: Activity) -> list[tuple[str, str]]:
        """Links to the question bank and the results for authors."""
        links = [("Question bank", url_for("quiz.questions", course_id=activity.course_id))]
        if activity.id is not None:
            links.append(("Results", url_for("quiz.results", activity_id=activity.id)))
        return links

    # --- learning ----------------------------------------------------------------------------
    def render(self, activity: Activity, user: User) -> Markup:
        """Quiz panel on the activity page: attempts, best score, start button."""
        attempts = user_attempts(activity, user)
        close_overdue(activity, user, attempts=attempts)
        author = can(user, "course.manage", activity.course)
        enrolled = active_enrolment(user.id, activity.course_id) is not None
        open_attempt = next((a for a in attempts if a.state == AttemptState.IN_PROGRESS), None)
        # A kept page (lms.pagecache) lasts no longer than the quiz is open, or the open
        # attempt's time (the next render submits an attempt whose time ran out).
        expires_at(activity.close_at)
        expires_at(open_attempt.deadline if open_attempt else None)
        return Markup(
            render_template(
                "quiz/_activity.html",
                quiz=activity,
                attempts=attempts,
                open_attempt=open_attempt,
                left=attempts_left(activity, attempts),
                best=best_attempt(attempts),
                author=author,
                enrolled=enrolled,
                question_count=self.question_count(activity),
                feedback_label=FEEDBACK_MODES.get(activity.feedback_mode, ""),
            )
        )

    @staticmethod
    def question_count(quiz: Quiz) -> int:
        """Number of questions an attempt will hold."""
        if quiz.selection == "random":
            return quiz.random_count or 0
        return len(quiz.question_keys or [])

    def learner_summary(self, activity: Activity, user: User) -> dict[str, Any]:
        """Best grade and attempts used, for the learner's reports."""
        attempts = user_attempts(activity, user)
        best = best_attempt(attempts)
        return {
            "best_grade": best.score if best and activity.score_visible else None,
            "attempts_used": sum(1 for a in attempts if not a.preview),
            "attempts_allowed": activity.attempts_allowed,
            "passed": bool(best and best.passed) if activity.score_visible else None,
        }

    def gradebook_entries(self, activities, user_ids):
        """Best grades as reported to progress; a quiz whose results wait for release shows
        them to learners (and counts them in their total) only once released."""
        visible = {a.id: a.score_visible for a in activities}
        stmt = select(
            ActivityCompletion.activity_id, ActivityCompletion.user_id, ActivityCompletion.grade
        ).where(
            ActivityCompletion.activity_id.in_(list(visible)), ActivityCompletion.grade.is_not(None)
        )
        if user_ids is not None:
            stmt = stmt.where(ActivityCompletion.user_id.in_(user_ids))
        return {
            (aid, uid): GradebookEntry(grade, "", visible[aid])
            for aid, uid, grade in db.session.execute(stmt)
        }

    def due_dates(self, activities, user_id):
        """A quiz that closes is a date to meet."""
        return [DueDate(a.id, a.title, a.close_at, "closes") for a in activities if a.close_at]

    # --- archive -----------------------------------------------------------------------------
    def export_course_data(self, course: Any, files: dict[str, bytes]) -> dict[str, Any] | None:
        """Course's question bank for the course archive."""
        return export_bank(course)

    def import_course_data(
        self, course: Any, data: dict[str, Any], files: dict[str, bytes]
    ) -> None:
        """Load the archived question bank into the course."""
        import_bank(course, data)

    def export_content(self, activity: Activity, files: dict[str, bytes]) -> dict[str, Any]:
        """Quiz settings for the course archive."""
        return archive_content(activity)

    def import_content(
        self, activity: Activity, content: dict[str, Any], files: dict[str, bytes]
    ) -> None:
        """Quiz settings from a course archive, checked against the bank."""
        clean = clean_settings(content)
        if activity.course_id is not None:
            check_against_bank(activity.course_id, clean)
        # A content without a pass mark keeps the activity-level one the archive already set.
        apply_settings(activity, clean, pass_mark=clean["pass_mark"] is not None)
