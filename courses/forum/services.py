"""Forum services: posting (rate-limited), editing, Q&A answers, moderation, subscriptions,
mail, read markers, search and completion. They flush, never commit; a refusal is raised
before anything is written."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select

from courses.forum.access import is_moderator, may_view
from courses.forum.mail import notify_subscribers
from courses.forum.models import (
    Forum,
    ForumKind,
    ForumPost,
    ForumRead,
    ForumReport,
    ForumThread,
)
from lms.domain.services import active_enrolment
from lms.errors import DomainError
from lms.extensions import db
from lms.models import User
from lms.progress.services import record_activity_event
from lms.timeutil import utcnow

EDIT_WINDOW = timedelta(minutes=30)
MAX_BODY = 20_000
MAX_TITLE = 200
MAX_REASON = 500


def _check_body(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise DomainError("Write something before posting.", "body")
    if len(body) > MAX_BODY:
        raise DomainError(f"Keep a post under {MAX_BODY:,} characters.", "body")
    return body


def _check_rate(user: User, forum: Forum, now: datetime) -> None:
    if is_moderator(user, forum):
        return
    limit = int(current_app.config.get("FORUM_RATE_LIMIT_POSTS", 5))
    window = int(current_app.config.get("FORUM_RATE_LIMIT_SECONDS", 60))
    recent = db.session.scalar(
        select(func.count(ForumPost.id)).where(
            ForumPost.author_id == user.id, ForumPost.created_at > now - timedelta(seconds=window)
        )
    )
    if (recent or 0) >= limit:
        raise DomainError(
            f"You have posted {recent} times in the last {window} seconds. Wait a moment "
            "before posting again.",
            "body",
        )


# --- posting -------------------------------------------------------------------------------------
def start_thread(forum: Forum, user: User, title: str, body: str) -> ForumThread:
    """A new discussion (or question, in a Q&A forum) with its first post."""
    if not may_view(user, forum):
        raise DomainError("Only the course's learners and trainers can post here.")
    now = utcnow()
    title = (title or "").strip()
    if not title:
        raise DomainError("Give the discussion a title.", "title")
    if len(title) > MAX_TITLE:
        raise DomainError(f"Keep the title under {MAX_TITLE} characters.", "title")
    body = _check_body(body)
    _check_rate(user, forum, now)
    thread = ForumThread(forum_id=forum.id, author_id=user.id, title=title, created_at=now,
                         last_post_at=now)  # fmt: skip
    db.session.add(thread)
    db.session.flush()
    post = ForumPost(thread_id=thread.id, forum_id=forum.id, course_id=forum.course_id,
                     author_id=user.id, body=body, created_at=now)  # fmt: skip
    db.session.add(post)
    db.session.flush()
    mark_read(thread, user, now)
    _after_post(forum, user, post, reply=False)
    return thread


def reply(thread: ForumThread, user: User, body: str, parent: ForumPost | None = None) -> ForumPost:
    """A reply to the thread (or to one of its posts); refused in a locked thread and to a
    hidden or deleted post."""
    forum = thread.forum
    if not may_view(user, forum):
        raise DomainError("Only the course's learners and trainers can post here.")
    if thread.locked and not is_moderator(user, forum):
        raise DomainError("This discussion is locked: no more replies can be posted.", "body")
    if parent is not None:
        if parent.thread_id != thread.id:
            raise DomainError("That post belongs to another discussion.")
        if not parent.visible:
            raise DomainError("You cannot reply to a post that was hidden or deleted.", "body")
    now = utcnow()
    body = _check_body(body)
    _check_rate(user, forum, now)
    first = first_post(thread)
    post = ForumPost(thread_id=thread.id, forum_id=forum.id, course_id=forum.course_id,
                     author_id=user.id, parent_id=(parent or first).id, body=body,
                     created_at=now)  # fmt: skip
    db.session.add(post)
    thread.last_post_at = now
    db.session.flush()
    mark_read(thread, user, now)
    _after_post(forum, user, post, reply=True)
    return post


def first_post(thread: ForumThread) -> ForumPost:
    """The post that opened the thread."""
    return db.session.scalar(
        select(ForumPost)
        .where(ForumPost.thread_id == thread.id, ForumPost.parent_id.is_(None))
        .limit(1)
    )


def edit_refusal(post: ForumPost, user: User, now: datetime) -> str | None:
    """Why ``user`` may not edit ``post`` now (``None``: they may)."""
    if post.author_id != user.id:
        return "You can only edit your own posts."
    if not post.visible:
        return "This post was hidden or deleted by a trainer and cannot be edited."
    if now - post.created_at > EDIT_WINDOW:
        return "Posts can be edited for 30 minutes after posting; that time is over."
    return None


def edit_post(post: ForumPost, user: User, body: str, now: datetime | None = None) -> ForumPost:
    """Authors may edit their post within 30 minutes of writing it."""
    now = now or utcnow()
    refusal = edit_refusal(post, user, now)
    if refusal:
        raise DomainError(refusal)
    post.body = _check_body(body)
    post.edited_at = now
    db.session.flush()
    return post


def mark_answer(thread: ForumThread, post: ForumPost | None, user: User) -> None:
    """In a Q&A forum, a trainer or the asker marks the reply that answers the question."""
    forum = thread.forum
    if forum.kind != ForumKind.QA:
        raise DomainError("Only questions in a Q&A forum have an answer to mark.")
    if not (is_moderator(user, forum) or thread.author_id == user.id):
        raise DomainError("Only a trainer or the person who asked can mark the answer.")
    if post is not None and (
        post.thread_id != thread.id or post.parent_id is None or not post.visible
    ):
        raise DomainError("Mark a visible reply of this question as the answer.")
    thread.answer_post_id = post.id if post is not None else None
    db.session.flush()


def set_flags(thread: ForumThread, user: User, pinned: bool | None = None,
              locked: bool | None = None) -> None:  # fmt: skip
    """Pin or lock a thread (trainers)."""
    if not is_moderator(user, thread.forum):
        raise DomainError("Only the course's trainers can pin or lock discussions.")
    if pinned is not None:
        thread.pinned = pinned
    if locked is not None:
        thread.locked = locked
    db.session.flush()


# --- moderation ----------------------------------------------------------------------------------
def report_post(post: ForumPost, user: User, reason: str) -> ForumReport:
    """A learner reports a post to the trainers, with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why you report this post.", "reason")
    if len(reason) > MAX_REASON:
        raise DomainError(f"Keep the reason under {MAX_REASON} characters.", "reason")
    existing = db.session.scalar(
        select(ForumReport).where(
            ForumReport.post_id == post.id, ForumReport.reporter_id == user.id
        )
    )
    if existing is not None:
        raise DomainError("You already reported this post; the trainers have been told.")
    row = ForumReport(post_id=post.id, reporter_id=user.id, reason=reason)
    db.session.add(row)
    db.session.flush()
    return row


def moderate_post(post: ForumPost, user: User, action: str, reason: str) -> None:
    """Hide, show again or delete a post; hiding and deleting need a reason (shown in place)."""
    if not is_moderator(user, post.thread.forum):
        raise DomainError("Only the course's trainers can moderate posts.")
    reason = (reason or "").strip()
    if action in ("hide", "delete") and not reason:
        raise DomainError("Give a reason: it is shown in place of the post.", "reason")
    if len(reason) > MAX_REASON:
        raise DomainError(f"Keep the reason under {MAX_REASON} characters.", "reason")
    now = utcnow()
    if action == "hide":
        post.hidden_at = now
    elif action == "unhide":
        if post.deleted_at is not None:
            raise DomainError("A deleted post cannot be shown again.")
        post.hidden_at = None
    elif action == "delete":
        post.deleted_at = now
        post.body = ""  # the content is gone for good; the reason stays
    else:
        raise DomainError("Choose hide, show or delete.")
    post.moderated_by_id = user.id
    post.moderation_reason = reason if action != "unhide" else ""
    if action != "unhide" and post.thread.answer_post_id == post.id:
        post.thread.answer_post_id = None
    for report in db.session.scalars(
        select(ForumReport).where(ForumReport.post_id == post.id, ForumReport.resolved_at.is_(None))
    ):
        report.resolved_at = now
    db.session.flush()


def open_reports(forum: Forum) -> list[ForumReport]:
    """Reports of the forum's posts not handled yet, oldest first."""
    return list(
        db.session.scalars(
            select(ForumReport)
            .join(ForumPost, ForumPost.id == ForumReport.post_id)
            .where(ForumPost.forum_id == forum.id, ForumReport.resolved_at.is_(None))
            .order_by(ForumReport.created_at)
        )
    )


# --- read markers --------------------------------------------------------------------------------
def mark_read(thread: ForumThread, user: User, now: datetime | None = None) -> None:
    """Everything in the thread up to now is read by ``user``."""
    now = now or utcnow()
    row = db.session.scalar(
        select(ForumRead).where(ForumRead.thread_id == thread.id, ForumRead.user_id == user.id)
    )
    if row is None:
        db.session.add(ForumRead(thread_id=thread.id, user_id=user.id, read_at=now))
    else:
        row.read_at = now
    db.session.flush()


def thread_rows(forum: Forum, user_id: int) -> list[tuple[ForumThread, int, int]]:
    """(thread, visible posts, unread posts for ``user_id``), pinned first, newest activity first;
    one query whatever the number of threads."""
    visible = and_(ForumPost.hidden_at.is_(None), ForumPost.deleted_at.is_(None))
    unread = and_(
        visible,
        or_(ForumRead.read_at.is_(None), ForumPost.created_at > ForumRead.read_at),
        or_(ForumPost.author_id.is_(None), ForumPost.author_id != user_id),
    )
    stmt = (
        select(
            ForumThread,
            func.count(ForumPost.id).filter(visible),
            func.count(ForumPost.id).filter(unread),
        )
        .join(ForumPost, ForumPost.thread_id == ForumThread.id)
        .outerjoin(
            ForumRead, and_(ForumRead.thread_id == ForumThread.id, ForumRead.user_id == user_id)
        )
        .where(ForumThread.forum_id == forum.id)
        .group_by(ForumThread.id)
        .order_by(ForumThread.pinned.desc(), ForumThread.last_post_at.desc())
    )
    return [(t, n, u) for t, n, u in db.session.execute(stmt)]


def thread_posts(thread: ForumThread) -> list[ForumPost]:
    """The thread's posts in the order they were written."""
    return list(
        db.session.scalars(
            select(ForumPost)
            .where(ForumPost.thread_id == thread.id)
            .order_by(ForumPost.created_at, ForumPost.id)
        )
    )


# --- search --------------------------------------------------------------------------------------
def course_forums(course_id: int) -> list[Forum]:
    """Every forum of a course."""
    return list(db.session.scalars(select(Forum).where(Forum.course_id == course_id)))


def search_posts(
    course_id: int, forum_ids: list[int], query: str, limit: int = 50
) -> list[ForumPost]:
    """Visible posts of the course's forums whose text or thread title holds ``query``."""
    words = [w for w in (query or "").lower().split() if w][:6]
    if not words or not forum_ids:
        return []
    stmt = (
        select(ForumPost)
        .join(ForumThread, ForumThread.id == ForumPost.thread_id)
        .where(
            ForumPost.course_id == course_id,
            ForumPost.forum_id.in_(forum_ids),
            ForumPost.hidden_at.is_(None),
            ForumPost.deleted_at.is_(None),
        )
        .order_by(ForumPost.created_at.desc())
        .limit(limit)
    )
    for w in words:
        like = "%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(func.lower(ForumPost.body).like(like, escape="\\"),
                func.lower(ForumThread.title).like(like, escape="\\"))
        )  # fmt: skip
    return list(db.session.scalars(stmt))


# --- completion ----------------------------------------------------------------------------------
def _counts(forum: Forum, user_id: int) -> tuple[int, int]:
    row = db.session.execute(
        select(
            func.count(ForumPost.id).filter(ForumPost.parent_id.is_(None)),
            func.count(ForumPost.id).filter(ForumPost.parent_id.is_not(None)),
        ).where(ForumPost.forum_id == forum.id, ForumPost.author_id == user_id)
    ).one()
    return row[0], row[1]


def requirement_met(forum: Forum, threads: int, replies: int) -> bool:
    """The forum's completion requirement (pure): N discussions started and/or N replies; with
    neither set, any one post."""
    need_posts, need_replies = forum.completion_posts, forum.completion_replies
    if not need_posts and not need_replies:
        return threads + replies >= 1
    return threads >= (need_posts or 0) and replies >= (need_replies or 0)


def _after_post(forum: Forum, user: User, post: ForumPost, reply: bool) -> None:
    notify_subscribers(forum, user, post)
    if active_enrolment(user.id, forum.course_id) is None:
        return  # trainers' posts are not learning progress
    threads, replies = _counts(forum, user.id)
    before = (threads, replies - 1) if reply else (threads - 1, replies)
    if requirement_met(forum, threads, replies) and not requirement_met(forum, *before):
        record_activity_event(
            user, forum, "submitted", details={"threads": threads, "replies": replies}
        )
