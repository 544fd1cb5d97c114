"""Fetch a row that must belong to a parent the caller already checked, or answer 404."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort

from lms.extensions import db

T = TypeVar("T")


def owned_or_404(model: type[T], ident: Any, options: Any = None, **owner: Any) -> T:
    """Row ``ident`` of ``model`` whose attributes match ``owner`` (e.g. ``course_id=course.id``).

    A row that exists under another parent answers 404 exactly like a missing one, so ids from
    other courses or organizations leak nothing. ``options`` are loader options for the get.
    """
    obj = db.session.get(model, ident, options=options)
    if obj is None or any(getattr(obj, name) != value for name, value in owner.items()):
        abort(404)
    return obj
