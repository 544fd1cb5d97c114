"""Forum subscriptions and mail: one mail per post, or a daily digest sent from cron."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select

from courses.forum.access import is_moderator, may_view
from courses.forum.models import Forum, ForumPost, ForumSubscription, SubscriptionMode
from lms.domain.models import Enrolment, EnrolmentStatus
from lms.errors import DomainError
from lms.extensions import db
from lms.mail import send_mail
from lms.models import User
from lms.timeutil import utcnow
from lms.urls import absolute_url


def subscription(forum: Forum, user_id: int) -> ForumSubscription | None:
    """The user's subscription to the forum, if any."""
    return db.session.scalar(
        select(ForumSubscription).where(
            ForumSubscription.forum_id == forum.id, ForumSubscription.user_id == user_id
        )
    )


def subscribe(forum: Forum, user: User, mode: str | None) -> None:
    """Subscribe with ``mode`` (each post or daily digest), or unsubscribe with ``None``."""
    row = subscription(forum, user.id)
    if mode is None:
        if row is not None:
            db.session.delete(row)
        db.session.flush()
        return
    if mode not in set(SubscriptionMode):
        raise DomainError("Choose mail for each post or a daily digest.")
    if not may_view(user, forum):
        raise DomainError("Only the course's learners and trainers can subscribe.")
    if row is None:
        row = ForumSubscription(forum_id=forum.id, user_id=user.id, last_digest_at=utcnow())
        db.session.add(row)
    row.mode = mode
    db.session.flush()


def _audience(forum: Forum) -> set[int]:
    """Users who may still read the forum: active learners (staff are checked one by one)."""
    return set(
        db.session.scalars(
            select(Enrolment.user_id).where(
                Enrolment.course_id == forum.course_id, Enrolment.status == EnrolmentStatus.ACTIVE
            )
        )
    )


def _post_url(post: ForumPost) -> str:
    """A full link to the post under SITE_URL, in a request or from cron alike."""
    return absolute_url("forum.thread", thread_id=post.thread_id) + f"#post-{post.id}"


def notify_subscribers(forum: Forum, author: User, post: ForumPost) -> int:
    """Mail a new post to the forum's per-post subscribers still in the course; returns how many."""
    subs = db.session.scalars(
        select(ForumSubscription).where(
            ForumSubscription.forum_id == forum.id,
            ForumSubscription.mode == SubscriptionMode.EACH_POST,
            ForumSubscription.user_id != author.id,
        )
    ).all()
    learners = _audience(forum)
    sent = 0
    for sub in subs:
        if sub.user_id not in learners and not is_moderator(sub.user, forum):
            continue  # left the course: no more mail from it
        send_mail(
            sub.user.email,
            f"[{forum.course.title}] {post.thread.title}",
            f"{author.name} wrote in “{forum.title}”:\n\n{post.body}\n\n"
            f"Read and reply: {_post_url(post)}\n"
            "You receive this because you subscribed to this forum; unsubscribe on its page.",
        )
        sent += 1
    post.mailed = True
    return sent


def send_digests(now: datetime | None = None) -> int:
    """One mail per digest subscription with the visible posts since the last digest (for cron,
    ``flask forum digest``). Returns how many mails were queued."""
    now = now or utcnow()
    sent = 0
    subs = db.session.scalars(
        select(ForumSubscription).where(ForumSubscription.mode == SubscriptionMode.DIGEST)
    ).all()
    for sub in subs:
        forum = db.session.get(Forum, sub.forum_id)
        since = sub.last_digest_at or now - timedelta(days=1)
        if forum is None or not may_view(sub.user, forum):
            continue
        posts = db.session.scalars(
            select(ForumPost)
            .where(
                ForumPost.forum_id == forum.id,
                ForumPost.created_at > since,
                ForumPost.created_at <= now,
                ForumPost.hidden_at.is_(None),
                ForumPost.deleted_at.is_(None),
                or_(ForumPost.author_id.is_(None), ForumPost.author_id != sub.user_id),
            )
            .order_by(ForumPost.created_at)
        ).all()
        sub.last_digest_at = now
        if not posts:
            continue
        parts = [
            f"— {p.thread.title} · {p.author.name if p.author else 'Former member'}, "
            f"{p.created_at:%d %b %H:%M} UTC\n{p.body}\n{_post_url(p)}"
            for p in posts
        ]
        send_mail(
            sub.user.email,
            f"[{forum.course.title}] Daily digest of “{forum.title}”: {len(posts)} new post"
            f"{'s' if len(posts) != 1 else ''}",
            "\n\n".join(parts) + "\n\nYou receive this daily digest because you subscribed.",
        )
        sent += 1
    db.session.flush()
    return sent
