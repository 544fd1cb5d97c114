"""Demo practice for “Python for Production Data”: the scrap-report assignment (rubric and peer
review) and the Q&A forum with real questions, answers and one submitted report."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from courses.demo import python_data
from lms.domain.models import Activity, Course, Module
from lms.extensions import db
from lms.models import User
from lms.plugins import activity_registry
from lms.timeutil import utcnow

PYTHON_SLUG = "python-for-production-data"


def add_practice_module(course: Course) -> None:
    """Append the practice module through the plugins' own archive import (as a course import
    would), with the due date three weeks from today so the demo is always open."""
    spec = python_data.PRACTICE_MODULE
    module = Module(title=spec["title"], summary=spec["summary"], position=len(course.modules))
    course.modules.append(module)
    db.session.flush()
    for index, act in enumerate(spec["activities"]):
        atype = activity_registry().get(act["type"])
        if atype is None:  # the plugin is not installed on this site: skip its demo
            continue
        activity = atype.new_activity(
            course_id=course.id, title=act["title"], completion_rule=act["completion_rule"],
            pass_mark=act.get("pass_mark"), weight=act.get("weight", 1.0),
            required=act.get("required", True), position=index,
        )  # fmt: skip
        module.activities.append(activity)
        db.session.flush()
        atype.import_content(activity, dict(act["content"]), {})
        if act["type"] == "assignment":
            due = (utcnow() + timedelta(days=21)).replace(
                hour=17, minute=0, second=0, microsecond=0
            )
            activity.due_at, activity.cutoff_at = due, due + timedelta(days=7)
    db.session.flush()


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _activity(course_id: int, type_key: str) -> Activity | None:
    return db.session.scalar(
        select(Activity).where(Activity.course_id == course_id, Activity.type == type_key)
    )


def seed_practice() -> None:
    """Forum threads and a submitted report (idempotent: only where none exist yet)."""
    # The demo seeds learners' posts and work through the plugins' own services, so it needs
    # them by name; only this demo step does, never the course blueprint itself.
    from courses.assignment.services import save_draft, submission_of, submit
    from courses.forum.models import ForumThread
    from courses.forum.services import mark_answer, reply, set_flags, start_thread

    course = db.session.scalar(select(Course).where(Course.slug == PYTHON_SLUG))
    if course is None:
        return
    forum = _activity(course.id, "forum")
    if (
        forum is not None
        and db.session.scalar(
            select(ForumThread.id).where(ForumThread.forum_id == forum.id).limit(1)
        )
        is None
    ):
        for author, title, body, replies, answer, pinned in python_data.FORUM_THREADS:
            asker = _user(author)
            if asker is None:
                continue
            thread = start_thread(forum, asker, title, body)
            posts = [reply(thread, _user(email), text) for email, text in replies if _user(email)]
            if answer is not None and answer < len(posts):
                mark_answer(thread, posts[answer], _user("trainer@uni.demo") or asker)
            if pinned:
                set_flags(thread, _user("trainer@uni.demo") or asker, pinned=True)
    assignment = _activity(course.id, "assignment")
    if assignment is not None:
        for email, text in python_data.DEMO_SUBMISSIONS:
            learner = _user(email)
            if learner is not None and submission_of(assignment, learner.id) is None:
                save_draft(assignment, learner, text, [])
                submit(assignment, learner)
    db.session.flush()
