"""Jobe API tables: API keys (hashed, with an hourly run budget) and uploaded support files."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.models import User
from lms.timeutil import utcnow


class JobeApiKey(db.Model):
    """A key a site admin issued to one CodeRunner site; only its SHA-256 is stored.

    ``window_start``/``window_runs`` count the runs of the current clock hour: one atomic
    UPDATE both checks and spends the budget, so parallel requests can never overspend it.
    """

    __tablename__ = "jobe_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    hourly_limit: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[int] = mapped_column(Integer, default=0)  # hours since the epoch
    window_runs: Mapped[int] = mapped_column(Integer, default=0)
    runs_total: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    created_by: Mapped[User | None] = relationship()

    @property
    def status(self) -> str:
        """ "active" or "revoked", as the key list shows it."""
        return "revoked" if self.revoked_at else "active"


class JobeFile(db.Model):
    """A support file PUT by a client (CodeRunner names it by a hash of its content)."""

    __tablename__ = "jobe_files"
    __page_scope__ = "none"

    file_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
