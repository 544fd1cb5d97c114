"""Grading an assignment: the trainer's grade, release, and peer review with its stated rule.

Services take validated values, flush and never commit; a refusal is a ``DomainError`` raised
before anything is written.
"""

from __future__ import annotations

import os

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload

from courses.assignment.models import (
    Assignment,
    AssignmentGrade,
    AssignmentSubmission,
    GradingMethod,
    PeerReview,
    ReviewStatus,
    SubmissionStatus,
)
from courses.assignment.notices import tell_learners
from courses.assignment.rubric import RubricError, final_score, rubric_score, score_percent
from courses.assignment.services import FEEDBACK_FILE_BYTES, MAX_FEEDBACK, submission_of
from courses.attachments import DANGEROUS_EXTENSIONS, safe_filename, sniff
from lms.errors import DomainError
from lms.extensions import db
from lms.models import User
from lms.progress.services import record_activity_event
from lms.timeutil import utcnow


# --- grading -------------------------------------------------------------------------------------
def peer_scores(submission_id: int) -> list[float]:
    """The scores of the finished peer reviews of a submission."""
    return [
        s
        for s in db.session.scalars(
            select(PeerReview.score).where(
                PeerReview.submission_id == submission_id,
                PeerReview.status == ReviewStatus.DONE,
            )
        )
        if s is not None
    ]


def _score_of(assignment: Assignment, levels: list | None, points: float | None):
    try:
        if assignment.grading == GradingMethod.RUBRIC:
            earned, score = rubric_score(assignment.rubric, levels or [])
            return [int(v) for v in levels or []], earned, score
        if points is None:
            raise RubricError(f"Give a score from 0 to {assignment.max_score:g}.")
        return [], float(points), score_percent(float(points), assignment.max_score)
    except RubricError as exc:
        raise DomainError(str(exc), "score") from None


def grade_submission(
    sub: AssignmentSubmission,
    grader: User,
    *,
    levels: list | None = None,
    points: float | None = None,
    feedback: str = "",
    feedback_file: tuple[str, bytes] | None = None,
) -> AssignmentGrade:
    """Store the trainer's grade; learners see it once grades are released."""
    assignment = sub.assignment
    if sub.status != SubmissionStatus.SUBMITTED:
        raise DomainError("This work has not been submitted (or was reopened): nothing to grade.")
    feedback = (feedback or "").replace("\r\n", "\n")
    if len(feedback) > MAX_FEEDBACK:
        raise DomainError(f"Keep the feedback under {MAX_FEEDBACK:,} characters.", "feedback")
    chosen, earned, score = _score_of(assignment, levels, points)
    file_meta = None
    if feedback_file is not None:
        name, data = feedback_file
        if len(data) > FEEDBACK_FILE_BYTES:
            raise DomainError("The feedback file may be at most 5 MB.", "feedback_file")
        safe = safe_filename(name)
        content_type = sniff(data, safe) if data else None
        if not data or content_type is None or os.path.splitext(safe)[1] in DANGEROUS_EXTENSIONS:
            raise DomainError(
                "The feedback file must be a PDF, an image, plain text, CSV or a ZIP archive.",
                "feedback_file",
            )
        file_meta = (safe, content_type, data)
    grade = sub.grade
    if grade is None:
        grade = AssignmentGrade()
        sub.grade = grade
    grade.grader_id = grader.id
    grade.levels = chosen
    grade.points = earned
    grade.score = score
    grade.feedback = feedback
    if file_meta is not None:
        grade.feedback_filename, grade.feedback_content_type, grade.feedback_data = file_meta
    grade.graded_at = utcnow()
    grade.final_score = final_score(score, peer_scores(sub.id), _peer_weight(assignment))
    db.session.flush()
    if assignment.released:
        _report_grade(sub)
        tell_learners(assignment, [sub])
    return grade


def _peer_weight(assignment: Assignment) -> float:
    return assignment.peer_weight if assignment.peer_review else 0.0


def _report_grade(sub: AssignmentSubmission) -> None:
    record_activity_event(
        sub.user, sub.assignment, "graded", grade=sub.grade.final_score, replace_grade=True
    )


def release_grades(assignment: Assignment) -> int:
    """Show every grade to its learner at once (and to progress); returns how many."""
    assignment.grades_released_at = assignment.grades_released_at or utcnow()
    graded = db.session.scalars(
        select(AssignmentSubmission)
        .join(AssignmentGrade, AssignmentGrade.submission_id == AssignmentSubmission.id)
        .where(AssignmentSubmission.assignment_id == assignment.id)
        .options(contains_eager(AssignmentSubmission.grade), joinedload(AssignmentSubmission.user))
    ).all()
    for sub in graded:
        _report_grade(sub)
    tell_learners(assignment, graded)
    db.session.flush()
    return len(graded)


def withhold_grades(assignment: Assignment) -> None:
    """Stop showing grades (new ones stay hidden until the next release)."""
    assignment.grades_released_at = None
    db.session.flush()


# --- peer review ---------------------------------------------------------------------------------
def my_reviews(assignment: Assignment, user_id: int) -> list[PeerReview]:
    """The reviews allocated to ``user_id``, oldest first."""
    return list(
        db.session.scalars(
            select(PeerReview)
            .where(PeerReview.assignment_id == assignment.id, PeerReview.reviewer_id == user_id)
            .order_by(PeerReview.id)
        )
    )


def allocate_reviews(assignment: Assignment, reviewer: User) -> list[PeerReview]:
    """Give the reviewer submissions to review, up to ``peer_count``: others' submitted work
    with the fewest reviews so far (Open edX's dynamic allocation), never their own."""
    if not assignment.peer_review:
        raise DomainError("This assignment has no peer review.")
    own = submission_of(assignment, reviewer.id)
    if own is None or own.status != SubmissionStatus.SUBMITTED:
        raise DomainError("Submit your own work first; then you can review others'.")
    have = my_reviews(assignment, reviewer.id)
    missing = assignment.peer_count - len(have)
    if missing <= 0:
        return have
    reviewed = {r.submission_id for r in have}
    counts = (
        select(PeerReview.submission_id, func.count(PeerReview.id).label("n"))
        .where(PeerReview.assignment_id == assignment.id)
        .group_by(PeerReview.submission_id)
        .subquery()
    )
    candidates = db.session.execute(
        select(AssignmentSubmission.id)
        .outerjoin(counts, counts.c.submission_id == AssignmentSubmission.id)
        .where(
            AssignmentSubmission.assignment_id == assignment.id,
            AssignmentSubmission.status == SubmissionStatus.SUBMITTED,
            AssignmentSubmission.user_id != reviewer.id,
        )
        .order_by(func.coalesce(counts.c.n, 0), AssignmentSubmission.submitted_at)
    ).scalars()
    for sid in candidates:
        if missing <= 0:
            break
        if sid in reviewed:
            continue
        db.session.add(
            PeerReview(assignment_id=assignment.id, submission_id=sid, reviewer_id=reviewer.id)
        )
        missing -= 1
    db.session.flush()
    return my_reviews(assignment, reviewer.id)


def submit_review(
    review: PeerReview, reviewer: User, *, levels=None, points=None, comment: str = ""
) -> PeerReview:
    """Record a peer review; the reviewee's final grade follows the stated rule at once."""
    if review.reviewer_id != reviewer.id:
        raise DomainError("This review is not yours.")
    sub = review.submission
    if sub.user_id == reviewer.id:
        raise DomainError("You cannot review your own work.")
    comment = (comment or "").replace("\r\n", "\n")
    if len(comment) > MAX_FEEDBACK:
        raise DomainError(f"Keep the comment under {MAX_FEEDBACK:,} characters.", "comment")
    if not comment.strip():
        raise DomainError("Write a comment: say what works and what to improve.", "comment")
    chosen, _earned, score = _score_of(sub.assignment, levels, points)
    review.levels = chosen
    review.score = score
    review.comment = comment
    review.status = ReviewStatus.DONE
    review.completed_at = utcnow()
    db.session.flush()
    if sub.grade is not None:
        sub.grade.final_score = final_score(
            sub.grade.score, peer_scores(sub.id), _peer_weight(sub.assignment)
        )
        db.session.flush()
        if sub.assignment.released:
            _report_grade(sub)
    return review


def reviews_required(assignment: Assignment, user_id: int) -> int:
    """How many reviews the learner owes before seeing peer feedback on their own work."""
    others = db.session.scalar(
        select(func.count(AssignmentSubmission.id)).where(
            AssignmentSubmission.assignment_id == assignment.id,
            AssignmentSubmission.status == SubmissionStatus.SUBMITTED,
            AssignmentSubmission.user_id != user_id,
        )
    )
    return min(assignment.peer_count, others or 0)


def reviews_done(assignment: Assignment, user_id: int) -> int:
    """How many of their reviews the learner has finished."""
    return sum(1 for r in my_reviews(assignment, user_id) if r.status == ReviewStatus.DONE)


def peer_feedback_visible(assignment: Assignment, user_id: int) -> bool:
    """A learner sees peer feedback on their work only after doing their own reviews."""
    return reviews_done(assignment, user_id) >= max(1, reviews_required(assignment, user_id))


def received_reviews(sub: AssignmentSubmission) -> list[PeerReview]:
    """The finished peer reviews of a submission, oldest first."""
    return list(
        db.session.scalars(
            select(PeerReview)
            .where(PeerReview.submission_id == sub.id, PeerReview.status == ReviewStatus.DONE)
            .order_by(PeerReview.completed_at)
        )
    )


def quoted(text: str) -> str:
    """``text`` as a Markdown quote, so a grader can comment between its lines."""
    return "\n".join("> " + line if line.strip() else ">" for line in (text or "").splitlines())


def next_ungraded(assignment: Assignment, after_id: int) -> int | None:
    """The next submission waiting for a grade (for "save and grade next")."""
    return db.session.scalar(
        select(AssignmentSubmission.id)
        .outerjoin(AssignmentGrade, AssignmentGrade.submission_id == AssignmentSubmission.id)
        .where(
            AssignmentSubmission.assignment_id == assignment.id,
            AssignmentSubmission.status == SubmissionStatus.SUBMITTED,
            AssignmentGrade.id.is_(None),
            AssignmentSubmission.id != after_id,
        )
        .order_by(AssignmentSubmission.submitted_at)
        .limit(1)
    )


def queue_counts(assignment: Assignment) -> dict[str, int]:
    """Figures above the grading queue, in one query."""
    row = db.session.execute(
        select(
            func.count(AssignmentSubmission.id).filter(
                AssignmentSubmission.status == SubmissionStatus.SUBMITTED
            ),
            func.count(AssignmentGrade.id),
            func.count(AssignmentSubmission.id).filter(AssignmentSubmission.late.is_(True)),
        )
        .select_from(AssignmentSubmission)
        .outerjoin(AssignmentGrade, AssignmentGrade.submission_id == AssignmentSubmission.id)
        .where(AssignmentSubmission.assignment_id == assignment.id)
    ).one()
    return {"submitted": row[0], "graded": row[1], "late": row[2]}
