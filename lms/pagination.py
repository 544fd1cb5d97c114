"""Set-based pagination: one COUNT and one page query, whatever the number of rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request
from sqlalchemy import Select, func, select

from lms.extensions import db
from lms.urls import current_url


@dataclass
class Page:
    items: list[Any]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.total, self.number * self.per_page)

    def url(self, number: int) -> str:
        """This list's page ``number``, keeping the filters and sort in use."""
        return current_url(page=number)


def page_number() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


def paginate(
    stmt: Select, per_page: int = 25, number: int | None = None, scalars: bool = True
) -> Page:
    """Run ``stmt`` for one page; ``scalars=False`` keeps whole rows (for multi-column selects)."""
    number = number or page_number()
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    pages = max(1, -(-total // per_page))
    number = min(number, pages)
    page_stmt = stmt.limit(per_page).offset((number - 1) * per_page)
    result = db.session.execute(page_stmt)
    items = list(result.scalars()) if scalars else list(result.all())
    return Page(items=items, number=number, per_page=per_page, total=total)
