"""Telling learners their grade is out: a mail and an in-app notice, once per grade."""

from __future__ import annotations

from collections.abc import Iterable

from courses.assignment.models import Assignment, AssignmentSubmission
from lms.links import activity_url
from lms.mail import send_mail
from lms.progress.assignments import notify
from lms.timeutil import utcnow

NOTICE_KIND = "assignment_graded"


def tell_learners(assignment: Assignment, submissions: Iterable[AssignmentSubmission]) -> int:
    """Mail and notify each learner whose released grade they have not been told of yet (or
    that changed since); returns how many were told. Call only while grades are released."""
    if not assignment.released:
        return 0
    now = utcnow()
    # The mail is read outside the site: the link is absolute, under SITE_URL (never the
    # request's Host header), and works when this runs from a command too.
    link = activity_url(assignment.course, assignment.id, external=True) or ""
    told = 0
    for sub in submissions:
        grade = sub.grade
        if grade is None or (
            grade.notified_at is not None and grade.notified_at >= grade.graded_at
        ):
            continue
        again = grade.notified_at is not None
        what = "was updated" if again else "is ready"
        course = assignment.course.title if assignment.course else ""
        notify(sub.user, NOTICE_KIND,
               f"Your grade for “{assignment.title}” ({course}) {what}: {grade.final_score:.0f}%.",
               link)  # fmt: skip
        send_mail(
            sub.user.email,
            f"Your grade for “{assignment.title}” {what}",
            f"Hello {sub.user.name},\n\n"
            f"Your work on “{assignment.title}” in {course} has been graded: "
            f"{grade.final_score:.1f}%.\n\n"
            "See the grade, the rubric and your trainer's feedback here:\n"
            f"{link}\n",
        )
        grade.notified_at = now
        told += 1
    return told
