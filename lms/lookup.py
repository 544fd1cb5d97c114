"""Fetch what a URL names, or answer 404: an organization the user may act on, or a row that must
belong to a parent the caller already checked."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from lms.extensions import db
from lms.models import Organization
from lms.permissions import can

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


def organization_or_404(slug: str, capability: str) -> Organization:
    """The organization ``slug`` if the current user holds ``capability`` on it.

    The one deny rule of every organization page: a member who lacks the capability gets 403
    (they know their organization exists); anyone else gets 404, so no page confirms that
    another organization exists.
    """
    org = db.session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        abort(404)
    if not can(current_user, capability, org):
        abort(403 if org.id in current_user.organization_ids() else 404)
    return org
