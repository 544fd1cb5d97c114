"""Keeps the stored skill counts (:mod:`lms.skills.holders`) in the same transaction as each change
that moves them: a session hook collects the people touched by a flush and syncs them after it,
and another syncs the people an ORM bulk statement touches (a course's recomputed completions,
refreshed program assignments, a re-certification reset) right after it runs."""

from __future__ import annotations

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from lms.bulk_statements import bulk_owners
from lms.domain.models import Course, Enrolment
from lms.extensions import db
from lms.models import Membership, User
from lms.progress.models import CompletionState, CourseCompletion, ProgramAssignment, ProgramCourse
from lms.skills.gap_models import SkillEvidence
from lms.skills.holders import release_holdings, sync_holdings
from lms.skills.models import CourseOutcome

_TOUCHED = "skills.holders_touched"
_GONE = "skills.holders_gone"
_PAUSED = "skills.holders_paused"


def pause(session: Session) -> None:
    """Stop keeping the counts in ``session`` (a bulk load recounts them when it is done)."""
    session.info[_PAUSED] = True


def resume(session: Session) -> None:
    """Keep the counts again in ``session`` (after :func:`pause`; recount first)."""
    session.info.pop(_PAUSED, None)


#: Per-person rows whose change can move the counts, and the columns that matter when updated.
_PERSONAL = {
    SkillEvidence: None, Membership: None, Enrolment: ("status", "course_id"),
    CourseCompletion: ("state",), ProgramAssignment: ("status", "due_at"),
}  # fmt: skip


def _matters(obj, session: Session) -> bool:
    columns = _PERSONAL[type(obj)]
    if type(obj) is CourseCompletion and obj not in session.deleted:
        # Only completing a course (or undoing it) moves a level or the pipeline: the many
        # progress updates of a course in progress do not.
        history = inspect(obj).attrs.state.history
        return CompletionState.COMPLETED in {*history.added, *history.deleted}
    if columns is None or obj in session.new or obj in session.deleted:
        return True
    state = inspect(obj)
    return any(state.attrs[c].history.has_changes() for c in columns)


def _status_changed(course: Course) -> bool:
    return inspect(course).attrs.status.history.has_changes()


def _before_flush(session: Session, _context, _instances) -> None:
    if session.info.get(_PAUSED):
        return
    touched = session.info.setdefault(
        _TOUCHED, {"people": [], "ids": set(), "courses": set(), "programs": set()}
    )
    for obj in (*session.new, *session.dirty, *session.deleted):
        kind = type(obj)
        if kind in _PERSONAL and _matters(obj, session):
            touched["people"].append(obj)  # its user id may be set only by the flush
        elif kind is CourseOutcome:
            touched["courses"].add(obj.course_id)
        elif kind is Course and obj in session.deleted:
            # Its enrolments go with it (in the database): name the people while they exist.
            touched["ids"].update(
                db.session.scalars(select(Enrolment.user_id).where(Enrolment.course_id == obj.id))
            )
        elif kind is Course and obj not in session.new and _status_changed(obj):
            touched["courses"].add(obj.id)
        elif kind is ProgramCourse:
            touched["programs"].add(obj.program_id)
    deleted = [obj.id for obj in session.deleted if isinstance(obj, User)]
    if deleted:
        release_holdings(deleted)
        session.info.setdefault(_GONE, set()).update(deleted)


def _after_flush(session: Session, _context) -> None:
    touched = session.info.pop(_TOUCHED, None)
    gone = session.info.pop(_GONE, set())
    if not touched:
        return
    people = {getattr(obj, "user_id", None) for obj in touched["people"]} | touched["ids"]
    if touched["courses"]:
        people.update(db.session.scalars(
            select(Enrolment.user_id).where(Enrolment.course_id.in_(touched["courses"]))
        ))  # fmt: skip
    if touched["programs"]:
        people.update(db.session.scalars(
            select(ProgramAssignment.user_id).where(
                ProgramAssignment.program_id.in_(touched["programs"])
            )
        ))  # fmt: skip
    sync_holdings(people - gone)


#: Entities whose bulk statements (``update(Model)``, ``insert(Model)``, ``delete(Model)``) can
#: move the counts: the people they touch are named from the statement and synced after it.
_BULK = (SkillEvidence, Membership, Enrolment, CourseCompletion, ProgramAssignment)


def _sets_a_counted_column(state, entity) -> bool:
    """Whether a bulk UPDATE sets a column the counts depend on (:data:`_PERSONAL`); when the
    columns it sets cannot be told, it is assumed to."""
    columns = _PERSONAL.get(entity)
    if columns is None:
        return True
    names: set[str] = set()
    for key in getattr(state.statement, "_values", None) or {}:
        names.add(getattr(key, "key", None) or str(key))
    params = state.parameters
    for row in params if isinstance(params, list) else [params] if params else []:
        names.update(k for k in row if k != "id")
    return not names or bool(names & set(columns))


def _on_execute(state):
    if not (state.is_update or state.is_delete or state.is_insert):
        return None
    if state.session.info.get(_PAUSED):
        return None
    mapper = state.bind_mapper
    if mapper is None or mapper.class_ not in _BULK:
        return None  # Core table statements (bulk loads) are recounted by their caller
    if state.is_update and not _sets_a_counted_column(state, mapper.class_):
        return None  # e.g. a recompute's progress or dates: no level or pipeline moves
    people = bulk_owners(state)
    result = state.invoke_statement()
    sync_holdings(people - {None})
    return result


def listen() -> None:
    """Keep the counts in the same transaction as each change that moves them."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush_postexec", _after_flush)
        event.listen(Session, "do_orm_execute", _on_execute)
