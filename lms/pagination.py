"""Pagination through Flask-SQLAlchemy's :class:`~flask_sqlalchemy.pagination.Pagination`.

Its ``SelectPagination`` (``db.paginate``) keeps only the first column of each row and answers a
page past the end with an empty list; our lists page whole rows too and show the last page
instead (a bookmarked "page 9" of a list that shrank still shows something). Both are small
subclasses of the library's class, so templates use its attributes (``page``, ``pages``,
``first``, ``last``, ``has_prev``, ``has_next``) and :func:`page_url` for the links.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func, select

from lms.extensions import db
from lms.urls import current_url


class SelectPage(Pagination):
    """One page of a ``select()``: scalars or whole rows, clamped to the last page."""

    def _query_count(self) -> int:
        if not hasattr(self, "_total"):
            stmt = self._query_args["select"].order_by(None).subquery()
            self._total = db.session.scalar(select(func.count()).select_from(stmt)) or 0
        return self._total

    def _query_items(self) -> list[Any]:
        last_page = max(1, -(-self._query_count() // self.per_page))
        self.page = min(self.page, last_page)
        stmt = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        result = db.session.execute(stmt)
        return list(result.scalars()) if self._query_args["scalars"] else list(result.all())


class ComputedPage(Pagination):
    """A page whose items and total a query function already computed (e.g. a deferred join)."""

    def _query_items(self) -> list[Any]:
        return self._query_args["items"]

    def _query_count(self) -> int:
        return self._query_args["total"]


def page_number() -> int:
    """The ``page`` query argument (1 when absent or unreadable)."""
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


def paginate(
    stmt: Select, per_page: int = 25, number: int | None = None, scalars: bool = True
) -> SelectPage:
    """Run ``stmt`` for one page; ``scalars=False`` keeps whole rows (for multi-column selects).

    One COUNT and one page query, whatever the number of rows.
    """
    return SelectPage(
        page=number or page_number(), per_page=per_page, max_per_page=None, error_out=False,
        select=stmt, scalars=scalars,
    )  # fmt: skip


def computed_page(items: list[Any], total: int, number: int, per_page: int) -> ComputedPage:
    """A page of ``items`` (page ``number`` of ``total`` rows) computed elsewhere."""
    return ComputedPage(
        page=number, per_page=per_page, max_per_page=None, error_out=False,
        items=items, total=total,
    )  # fmt: skip


def page_url(number: int) -> str:
    """This list's page ``number``, keeping the filters and sort in use."""
    return current_url(page=number)
