"""Feedback: the course evaluation at completion and the follow-up survey (employee and HR).

Answers feed the indicators (satisfaction, relevance, EQAVET 6 "skills used at the workplace").
Trainers read the free text without names, and averages only once 5 people answered.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError

from lms.cluster.indicators import MIN_COUNT
from lms.cluster.models import SurveyInvitation, SurveyKind, SurveyResponse
from lms.cluster.thresholds import threshold
from lms.domain.models import Course
from lms.errors import Conflict, DomainError, NotAllowed
from lms.extensions import db
from lms.mail import send_mail
from lms.models import Membership, Organization, OrgKind, Role, User
from lms.progress.assignments import notify
from lms.progress.models import CompletionState, CourseCompletion
from lms.urls import site_url

COMMENT_MAX = 2000


def _rating(raw, field: str, label: str) -> int:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise DomainError(f"Choose {label} from 1 to 5.", field) from None
    if not 1 <= value <= 5:
        raise DomainError(f"Choose {label} from 1 to 5.", field)
    return value


def _completed(user_id: int, course_id: int) -> CourseCompletion | None:
    return db.session.scalar(
        select(CourseCompletion).where(
            CourseCompletion.user_id == user_id,
            CourseCompletion.course_id == course_id,
            CourseCompletion.state == CompletionState.COMPLETED,
        )
    )


def learner_org_id(user: User) -> int | None:
    """The organization a learner's answers count for (their first learner membership)."""
    ids = sorted(m.organization_id for m in user.memberships if m.role == Role.LEARNER)
    return ids[0] if ids else None


def _save(row: SurveyResponse) -> SurveyResponse:
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        raise Conflict("This survey was already answered; thank you.") from None
    return row


def _existing(kind: str, course_id: int, user_id: int) -> bool:
    return (
        db.session.scalar(
            select(SurveyResponse.id).where(
                SurveyResponse.kind == kind,
                SurveyResponse.course_id == course_id,
                SurveyResponse.user_id == user_id,
            )
        )
        is not None
    )


def may_evaluate(user: User, course: Course) -> bool:
    """Whether ``user`` completed ``course`` (the evaluation is theirs to answer)."""
    return _completed(user.id, course.id) is not None


def may_follow_up(respondent: User, learner: User, course: Course) -> bool:
    """Whether ``respondent`` (the employee, or their HR) answers the follow-up about ``learner``."""
    if _completed(learner.id, course.id) is None:
        return False
    if respondent.id == learner.id:
        return True
    return bool(
        respondent.organization_ids(Role.HR, Role.ORG_ADMIN)
        & learner.organization_ids(Role.LEARNER)
    )


def answer_evaluation(
    user: User, course: Course, satisfaction, relevance, comment: str, now: datetime
) -> SurveyResponse:
    """The learner's evaluation of a course they completed (once)."""
    if _completed(user.id, course.id) is None:
        raise NotAllowed("The evaluation opens when you complete the course.")
    if _existing(SurveyKind.COURSE_EVALUATION, course.id, user.id):
        raise Conflict("You already evaluated this course; thank you.")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise DomainError(f"Keep the comment under {COMMENT_MAX} characters.", "comment")
    row = SurveyResponse(
        kind=SurveyKind.COURSE_EVALUATION, course_id=course.id, user_id=user.id,
        respondent_id=user.id, organization_id=learner_org_id(user),
        satisfaction=_rating(satisfaction, "satisfaction", "how satisfied you are"),
        relevance=_rating(relevance, "relevance", "how relevant it is to your work"),
        comment=comment, created_at=now,
    )  # fmt: skip
    return _save(row)


def answer_follow_up(
    respondent: User, learner: User, course: Course, skills_used, comment: str, now: datetime
) -> SurveyResponse:
    """The follow-up: the employee about themselves, or their HR about them (once each)."""
    if _completed(learner.id, course.id) is None:
        raise NotAllowed("The follow-up survey is about a completed course.")
    if respondent.id == learner.id:
        kind = SurveyKind.FOLLOW_UP
    else:
        hr_orgs = respondent.organization_ids(Role.HR, Role.ORG_ADMIN)
        if not hr_orgs & learner.organization_ids(Role.LEARNER):
            raise NotAllowed("Only the employee and their HR answer this survey.")
        kind = SurveyKind.FOLLOW_UP_HR
    if _existing(kind, course.id, learner.id):
        raise Conflict("This follow-up survey was already answered; thank you.")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise DomainError(f"Keep the comment under {COMMENT_MAX} characters.", "comment")
    row = SurveyResponse(
        kind=kind, course_id=course.id, user_id=learner.id, respondent_id=respondent.id,
        organization_id=learner_org_id(learner),
        skills_used=_rating(skills_used, "skills_used", "how much the skills are used at work"),
        comment=comment, created_at=now,
    )  # fmt: skip
    return _save(row)


def invite_to_evaluation(user: User, course: Course) -> None:
    """At completion: an in-app invitation to evaluate the course."""
    notify(
        user,
        "course_evaluation",
        f"You completed {course.title}. Tell us how it went (two questions).",
        f"/cluster/surveys/course/{course.id}",
    )


def on_course_completed(sender, user, course, completion, **_) -> None:
    """Receiver of ``course_completed``: invite the learner to evaluate the course."""
    invite_to_evaluation(user, course)


def send_follow_ups(now: datetime) -> int:
    """Invite employees (learners of enterprises) and their HR to the follow-up survey, the
    configured number of days after completion; each completion once (idempotent)."""
    days = threshold("followup_days")
    due = db.session.execute(
        select(CourseCompletion.user_id, CourseCompletion.course_id, Course.title)
        .join(Course, Course.id == CourseCompletion.course_id)
        .join(Membership, and_(Membership.user_id == CourseCompletion.user_id,
                               Membership.role == Role.LEARNER))
        .join(Organization, Organization.id == Membership.organization_id)
        .outerjoin(SurveyInvitation, and_(SurveyInvitation.user_id == CourseCompletion.user_id,
                                          SurveyInvitation.course_id == CourseCompletion.course_id))
        .where(
            CourseCompletion.state == CompletionState.COMPLETED,
            CourseCompletion.completed_at <= now - timedelta(days=days),
            Organization.kind == OrgKind.ENTERPRISE,
            SurveyInvitation.id.is_(None),
        )
        .distinct()
    ).all()  # fmt: skip
    sent = 0
    for user_id, course_id, title in due:
        try:
            with db.session.begin_nested():
                db.session.add(SurveyInvitation(course_id=course_id, user_id=user_id, sent_at=now))
        except IntegrityError:
            continue  # a concurrent run sent it
        user = db.session.get(User, user_id)
        link = f"/cluster/surveys/follow-up/{course_id}/{user_id}"
        notify(user, "follow_up_survey", f"Are you using what you learnt in {title}?", link)
        send_mail(user.email, f"Follow-up: {title}",
                  f"Hello {user.name},\n\nA few months ago you completed {title}. One question: "
                  f"are you using the skills at work?\n\n{site_url()}{link}\n")  # fmt: skip
        for hr in _hr_of(user):
            notify(
                hr, "follow_up_survey", f"Does {user.name} use what they learnt in {title}?", link
            )
        sent += 1
    return sent


def _hr_of(user: User) -> list[User]:
    orgs = user.organization_ids(Role.LEARNER)
    if not orgs:
        return []
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organization_id.in_(orgs), Membership.role == Role.HR)
            .distinct()
        )
    )


def course_feedback(course_id: int) -> dict:
    """What the course's trainers see: counts, averages once 5 answered, comments without names
    (in alphabetical order, so neither names nor timing identify anyone)."""
    row = db.session.execute(
        select(
            func.count(),
            func.avg(SurveyResponse.satisfaction),
            func.avg(SurveyResponse.relevance),
        ).where(
            SurveyResponse.course_id == course_id,
            SurveyResponse.kind == SurveyKind.COURSE_EVALUATION,
        )
    ).one()
    count = int(row[0])
    comments = sorted(
        c
        for c in db.session.scalars(
            select(SurveyResponse.comment).where(
                SurveyResponse.course_id == course_id, SurveyResponse.comment != ""
            )
        )
    )
    enough = count >= MIN_COUNT
    return {
        "answers": count,
        "enough": enough,
        "satisfaction": round(float(row[1]), 1) if enough and row[1] is not None else None,
        "relevance": round(float(row[2]), 1) if enough and row[2] is not None else None,
        "comments": comments,
    }


def feedback_overview(user: User) -> list[tuple[Course, int]]:
    """The courses ``user`` teaches (as a partner's trainer) that have evaluations, with counts."""
    from lms.domain.models import CoursePartner  # only this listing needs the partners table

    orgs = user.organization_ids(Role.TRAINER)
    if not orgs:
        return []
    return [
        (course, count)
        for course, count in db.session.execute(
            select(Course, func.count(SurveyResponse.id))
            .join(SurveyResponse, SurveyResponse.course_id == Course.id)
            .where(
                SurveyResponse.kind == SurveyKind.COURSE_EVALUATION,
                Course.id.in_(
                    select(CoursePartner.course_id).where(CoursePartner.organization_id.in_(orgs))
                ),
            )
            .group_by(Course.id)
            .order_by(Course.title)
            .limit(10)
        )
    ]
