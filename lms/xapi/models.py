"""Stored xAPI statements; the unsent ones are the LRS outbox."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms.extensions import db
from lms.timeutil import utcnow


class XapiStatement(db.Model):
    """One xAPI statement, as emitted (``statement`` is its JSON, ``id`` its stable UUID)."""

    __tablename__ = "xapi_statements"
    __page_scope__ = "user"
    __table_args__ = (
        Index("ix_xapi_statements_user_stored", "user_id", "stored_at"),
        Index("ix_xapi_statements_org_stored", "organization_id", "stored_at"),
        # The outbox query: unsent statements due for an attempt, oldest first.
        Index("ix_xapi_statements_outbox", "sent_at", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUID, sent as statement.id
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="SET NULL"), index=True
    )
    verb: Mapped[str] = mapped_column(String(20))
    statement: Mapped[str] = mapped_column(Text)
    stored_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Outbox state (only used when an LRS is configured).
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")

    @property
    def data(self) -> dict:
        """The stored statement as a dict."""
        return json.loads(self.statement)
