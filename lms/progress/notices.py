"""In-app notifications: marking them read (they are created by :func:`lms.progress.assignments.notify`)."""

from __future__ import annotations

from sqlalchemy import update

from lms.extensions import db
from lms.progress.models import Notification
from lms.timeutil import utcnow


def mark_notifications_read(user_id: int, ids: list[int]) -> int:
    """Mark a user's unread notifications (all, or those of ``ids``) read; how many changed."""
    stmt = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if ids:
        stmt = stmt.where(Notification.id.in_(ids))
    return db.session.execute(stmt.values(read_at=utcnow())).rowcount
