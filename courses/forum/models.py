"""Forum rows: the forum settings, threads, posts, reports, subscriptions and read markers."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.domain.models import Activity
from lms.extensions import db
from lms.models import User
from lms.timeutil import utcnow


class ForumKind(enum.StrEnum):
    """A general discussion forum or a Q&A forum."""

    GENERAL = "general"  # open discussion
    QA = "qa"  # questions; a trainer (or the asker) marks one reply as the answer


class SubscriptionMode(enum.StrEnum):
    """Mail for each post, or one digest a day."""

    EACH_POST = "each_post"
    DIGEST = "digest"  # one mail a day (``flask forum digest`` from cron)


class Forum(Activity):
    """A forum activity: its kind, introduction and completion requirement."""

    __tablename__ = "forums"

    id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), default=ForumKind.GENERAL)
    intro: Mapped[str] = mapped_column(Text, default="")  # Markdown
    # Completion ("submitted" rule): started at least N threads and/or written N replies.
    completion_posts: Mapped[int | None] = mapped_column(Integer)
    completion_replies: Mapped[int | None] = mapped_column(Integer)

    __mapper_args__ = {"polymorphic_identity": "forum"}


class ForumThread(db.Model):
    """A discussion (a question, in a Q&A forum), pinned or locked by trainers."""

    __tablename__ = "forum_threads"
    __table_args__ = (Index("ix_forum_threads_forum_last", "forum_id", "last_post_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    answer_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("forum_posts.id", ondelete="SET NULL", use_alter=True)
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_post_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    forum: Mapped[Forum] = relationship()
    author: Mapped[User | None] = relationship()


class ForumPost(db.Model):
    """A post: the thread's first post has no parent. Hidden or deleted posts keep the reason."""

    __tablename__ = "forum_posts"
    __table_args__ = (
        Index("ix_forum_posts_thread_created", "thread_id", "created_at"),
        Index("ix_forum_posts_author_created", "author_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("forum_threads.id", ondelete="CASCADE"))
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("forum_posts.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime)
    mailed: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    moderation_reason: Mapped[str] = mapped_column(Text, default="")

    thread: Mapped[ForumThread] = relationship(foreign_keys=[thread_id])
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])

    @property
    def visible(self) -> bool:
        """Neither hidden nor deleted."""
        return self.hidden_at is None and self.deleted_at is None


class ForumReport(db.Model):
    """A learner's report of a post to the course's trainers."""

    __tablename__ = "forum_reports"
    __table_args__ = (UniqueConstraint("post_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(
        ForeignKey("forum_posts.id", ondelete="CASCADE"), index=True
    )
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)

    post: Mapped[ForumPost] = relationship()
    reporter: Mapped[User] = relationship()


class ForumSubscription(db.Model):
    """A user's subscription to a forum's mail."""

    __tablename__ = "forum_subscriptions"
    __page_scope__ = "user"
    __table_args__ = (UniqueConstraint("forum_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    mode: Mapped[str] = mapped_column(String(20), default=SubscriptionMode.EACH_POST)
    last_digest_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


class ForumRead(db.Model):
    """When a user last read a thread: posts after it are unread."""

    __tablename__ = "forum_reads"
    __page_scope__ = "user"
    __table_args__ = (UniqueConstraint("thread_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("forum_threads.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    read_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
