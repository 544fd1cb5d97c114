"""Which stored pages a change puts out of date: a session hook adds one to the generation of
every scope a flush touches, in the same transaction (see :mod:`lms.pagecache`).

A model says what its rows show up on with a class attribute (the base default is ``"site"``):

- ``__page_scope__ = "user"``: a row is shown only on the pages of the person it belongs to
  (``__page_owner__``, by default the ``user_id`` column): a learner's progress, attempts,
  submissions, notifications, enrolments. Changing it puts out of date that person's pages only.
- ``__page_scope__ = "none"``: bookkeeping no stored page shows (outboxes, throttles, counters).
- anything else, and every model that says nothing: the change may show on anybody's page (a
  course, its activities and texts, a program), so every stored page is out of date.

A bulk statement on a per-person model may name the people whose pages it changes,
``.execution_options(page_owners=[user_id])`` (``()``: nobody's, e.g. a lease's heartbeat),
sparing the query that finds them; statements on a lab's queue in the grading loop do.

ORM flushes and ORM bulk statements are seen; a Core ``table.insert()`` or raw SQL is not, and
stored pages live at most ``PAGE_CACHE_SECONDS`` (a minute by default) after such a change.
"""

from __future__ import annotations

from sqlalchemy import bindparam, event, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lms.bulk_statements import bulk_owners
from lms.pagecache.models import SITE, PageGeneration, user_scope

_PENDING = "pagecache.touched"
_BUMPED = "pagecache.bumped"


def page_scope(cls) -> str:
    """``"user"``, ``"none"`` or ``"site"`` for a mapped class (see the module docstring)."""
    return getattr(cls, "__page_scope__", SITE) or SITE


def _owner_attribute(cls) -> str:
    return getattr(cls, "__page_owner__", "user_id")


def _collect(session: Session, _context) -> None:
    # After the flush, before its bookkeeping is reset: new, dirty and deleted still name
    # everything it wrote (whatever other hooks added), and new rows have their owners.
    touched = session.info.setdefault(_PENDING, {"objects": [], "ids": set(), "site": False})
    for obj in (*session.new, *session.dirty, *session.deleted):
        scope = page_scope(type(obj))
        if scope == "none":
            continue
        if obj in session.dirty and not session.is_modified(obj, include_collections=False):
            continue
        if scope != "user":
            touched["site"] = True
            continue
        touched["objects"].append(obj)
        if obj in session.dirty:  # moved to another person: both people's pages change
            history = inspect(obj).attrs[_owner_attribute(type(obj))].history
            touched["ids"].update(history.deleted or ())


def _bump_after_flush(session: Session, _context) -> None:
    touched = session.info.pop(_PENDING, None)
    if not touched:
        return
    ids = {getattr(obj, _owner_attribute(type(obj)), None) for obj in touched["objects"]}
    bump(session, site=touched["site"], user_ids=(ids | touched["ids"]) - {None})


def _transaction_ended(session: Session, transaction) -> None:
    # Committed, or rolled back with the bumps it held (a savepoint too): the next change bumps
    # again. A flush's own inner transaction is neither.
    if transaction.parent is None or transaction.nested:
        session.info.pop(_BUMPED, None)


def _on_bulk_statement(state):
    if not (state.is_update or state.is_delete or state.is_insert):
        return None
    mapper = state.bind_mapper
    if mapper is None:
        return None  # Core table statements: see the module docstring
    scope = page_scope(mapper.class_)
    if scope == "none":
        return None
    owners = state.execution_options.get("page_owners")
    if owners is not None:  # the statement names them: no query to find them
        people = set(owners)
    elif scope == "user":
        people = bulk_owners(state, _owner_attribute(mapper.class_), whole_table=False)
    else:
        people = None
    result = state.invoke_statement()
    if people is None:
        bump(state.session, site=True)
    elif people:
        bump(state.session, user_ids=people)
    return result


def bump(session: Session, *, site: bool = False, user_ids=()) -> None:
    """Add one to the generation of every page (``site``) and of these people's pages."""
    scopes = sorted(user_scope(i) for i in set(user_ids))  # one order: no deadlock between two
    if site:
        scopes.insert(0, SITE)
    # Once per scope and transaction: a reader sees the new generation and every change of the
    # transaction together, at its commit, however many flushes it took (a graded submission
    # takes four).
    done = session.info.setdefault(_BUMPED, set())
    scopes = [s for s in scopes if s not in done]
    if not scopes:
        return
    done.update(scopes)
    dialect = session.get_bind().dialect.name
    statement = _upsert(dialect)
    if statement is None:  # another database: update, then create the scopes never counted
        _bump_portably(session, scopes)
        return
    session.execute(statement, [{"scope": scope} for scope in scopes])


_UPSERTS: dict[str, object] = {}


def _upsert(dialect: str):
    """INSERT ... ON CONFLICT DO UPDATE adding one, built once (a graded submission runs it)."""
    if dialect not in _UPSERTS:
        insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
        table = PageGeneration.__table__
        _UPSERTS[dialect] = None if insert is None else (
            insert(table)
            .values(scope=bindparam("scope"), generation=1)
            .on_conflict_do_update(
                index_elements=[table.c.scope], set_={"generation": table.c.generation + 1}
            )
        )  # fmt: skip
    return _UPSERTS[dialect]


def _bump_portably(session: Session, scopes: list[str]) -> None:
    table = PageGeneration.__table__
    session.execute(
        update(table).where(table.c.scope.in_(scopes)).values(generation=table.c.generation + 1)
    )
    known = set(session.scalars(select(table.c.scope).where(table.c.scope.in_(scopes))))
    missing = [{"scope": s, "generation": 1} for s in scopes if s not in known]
    if missing:
        session.execute(table.insert(), missing)


def listen() -> None:
    """Bump the generations in the same transaction as every change (idempotent)."""
    if not event.contains(Session, "after_flush", _collect):
        event.listen(Session, "after_flush", _collect)
        event.listen(Session, "after_flush_postexec", _bump_after_flush)
        event.listen(Session, "do_orm_execute", _on_bulk_statement)
        event.listen(Session, "after_transaction_end", _transaction_ended)
