"""Who an ORM bulk statement touches, for the session hooks that keep derived data in step with
it (the skill counts, the kept pages' generations)."""

from __future__ import annotations

from sqlalchemy import select


def bulk_owners(state, owner: str = "user_id", *, whole_table: bool = True) -> set | None:
    """The ``owner`` column values of the rows an ORM bulk INSERT, UPDATE or DELETE touches,
    read before it runs (``state`` is the ``do_orm_execute`` event's). A statement with neither
    a WHERE clause nor primary keys touches every row: their owners are read when
    ``whole_table``, else the answer is None (too many to name)."""
    entity = state.bind_mapper.class_
    params = state.parameters
    rows = params if isinstance(params, list) else [params] if params else []
    if state.is_insert:
        return {r.get(owner) for r in rows} - {None}
    column = getattr(entity, owner)
    where = state.statement.whereclause
    if where is None and rows and all("id" in r for r in rows):  # bulk update by primary key
        ids = [r["id"] for r in rows]
        return set(state.session.scalars(select(column).where(entity.id.in_(ids))))
    if where is None and not whole_table:
        return None
    statement = select(column).distinct()
    return set(state.session.scalars(statement if where is None else statement.where(where)))
