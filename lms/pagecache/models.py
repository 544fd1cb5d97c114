"""The generations that tell a stored page it is out of date (see :mod:`lms.pagecache`)."""

from __future__ import annotations

from sqlalchemy import BigInteger, String, cast, literal, select
from sqlalchemy.orm import Mapped, mapped_column

from lms.extensions import db

SITE = "site"


def user_scope(user_id: int) -> str:
    """The scope key of one person's pages."""
    return f"user:{user_id}"


class PageGeneration(db.Model):
    """A counter per scope: ``site`` (every page) and ``user:<id>`` (one person's pages).

    Every flush that changes what a page may show adds one to the counters of the scopes it
    touches, in the same transaction; a stored page is served only while the counters it was
    rendered under are still the current ones.
    """

    __tablename__ = "page_generations"
    __page_scope__ = "none"  # its own bookkeeping

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)


def user_generation_subquery(user_id_column):
    """The generation of the session user's pages, correlated on ``user_id_column``."""
    key = literal("user:") + cast(user_id_column, String)
    return select(PageGeneration.generation).where(PageGeneration.scope == key).scalar_subquery()


def site_generation_subquery(_user_id_column):
    """The generation of every page (the same for every user)."""
    return select(PageGeneration.generation).where(PageGeneration.scope == SITE).scalar_subquery()
