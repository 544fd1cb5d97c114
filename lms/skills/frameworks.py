"""A framework as plain data, checked, and written to the database in one go.

The CSV readers (:mod:`lms.skills.csvformats`) and the ESCO pillar loader build a
:class:`FrameworkData`; :func:`check_framework_data` finds every problem a file can have (a URI
twice, a parent that is not there, a cycle, a label too long) naming its line, before anything is
written; :func:`save_framework` then upserts it set-wise: a few queries whatever the size, so the
13,939 ESCO skills load in seconds. Skills already in the framework but not in the data are kept
(courses may teach them); importing the same data twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, insert, select, update

from lms.extensions import db
from lms.skills.models import (
    LABEL_MAX,
    LEVEL_NAME_MAX,
    URI_MAX,
    ActivityOutcome,
    CourseOutcome,
    Framework,
    ProficiencyLevel,
    Skill,
    SkillKind,
    SkillType,
)
from lms.skills.services import SkillError
from lms.timeutil import utcnow

SLUG_MAX = 80
NAME_MAX = 200


class FrameworkFileError(SkillError):
    """A framework file that cannot be imported; ``line`` is its line number (1 = the header)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"Line {line}: {message}" if line else message)
        self.line = line


@dataclass
class LevelData:
    """One level of a proficiency scale, lowest first."""

    name: str
    is_default: bool = False
    proficient: bool = False


@dataclass
class NodeData:
    """A category or skill as read from a file; ``line`` says where, for error messages."""

    uri: str
    label: str
    alt_labels: list[str] = field(default_factory=list)
    description: str = ""
    skill_type: str | None = None
    kind: str = SkillKind.SKILL
    parent_uri: str | None = None
    line: int | None = None


@dataclass
class FrameworkData:
    """A whole framework: its identity, its scale and its nodes in file order."""

    slug: str
    name: str
    uri: str
    description: str = ""
    source: str = "local"
    levels: list[LevelData] = field(default_factory=list)
    nodes: list[NodeData] = field(default_factory=list)


@dataclass(frozen=True)
class ImportResult:
    """What an import did, for the command's report."""

    framework: str
    created: int
    updated: int
    unchanged: int
    kept: int  # in the framework already, not in the file


def check_framework_data(data: FrameworkData) -> None:
    """Raise :class:`FrameworkFileError` for the first problem in ``data`` (nothing is written)."""
    if not data.slug or len(data.slug) > SLUG_MAX:
        raise FrameworkFileError(f"The framework needs an id of at most {SLUG_MAX} characters.")
    if not data.name.strip() or len(data.name) > NAME_MAX:
        raise FrameworkFileError(f"The framework needs a name of at most {NAME_MAX} characters.")
    if not data.uri or len(data.uri) > URI_MAX:
        raise FrameworkFileError(f"The framework needs a URI of at most {URI_MAX} characters.")
    _check_levels(data)
    if not data.nodes:
        raise FrameworkFileError("The file has no skills.")
    seen: dict[str, int | None] = {}
    for node in data.nodes:
        _check_node(node, seen)
        seen[node.uri] = node.line
    parents = {node.uri: node.parent_uri for node in data.nodes}
    for node in data.nodes:
        if node.parent_uri and node.parent_uri not in parents:
            raise FrameworkFileError(
                f"The parent “{node.parent_uri}” is not in the file.", node.line
            )
    _check_no_cycle(data.nodes, parents)


def _check_levels(data: FrameworkData) -> None:
    """The proficiency scale: at least one level, each named, no name twice."""
    if not data.levels:
        raise FrameworkFileError("The proficiency scale has no levels.")
    names = [level.name for level in data.levels]
    for name in names:
        if not name or len(name) > LEVEL_NAME_MAX:
            raise FrameworkFileError(
                f"Each scale level needs a name of 1 to {LEVEL_NAME_MAX} characters."
            )
    if len({n.lower() for n in names}) != len(names):
        raise FrameworkFileError(f"The scale names a level twice: {', '.join(names)}.")


def _check_node(node: NodeData, seen: dict[str, int | None]) -> None:
    """One skill: a URI not ``seen`` on an earlier line, a label, a known type and kind."""
    if not node.uri:
        raise FrameworkFileError("The skill has no URI (id number).", node.line)
    if len(node.uri) > URI_MAX:
        raise FrameworkFileError(
            f"The URI is {len(node.uri)} characters long; at most {URI_MAX} fit.", node.line
        )
    if node.uri in seen:
        raise FrameworkFileError(
            f"The skill URI “{node.uri}” appears twice (first on line {seen[node.uri]}).",
            node.line,
        )
    if not node.label:
        raise FrameworkFileError("The skill has no preferred label.", node.line)
    if len(node.label) > LABEL_MAX:
        raise FrameworkFileError(
            f"The preferred label is {len(node.label)} characters long; at most {LABEL_MAX} fit.",
            node.line,
        )
    if node.skill_type not in (None, *(t.value for t in SkillType)):
        raise FrameworkFileError(
            f"Unknown skill type “{node.skill_type}”: use “skill/competence”, “knowledge” "
            "or leave it empty.",
            node.line,
        )
    if node.kind not in {k.value for k in SkillKind}:
        raise FrameworkFileError(f"Unknown kind “{node.kind}”.", node.line)


def _check_no_cycle(nodes: list[NodeData], parents: dict[str, str | None]) -> None:
    done: set[str] = set()
    lines = {node.uri: node.line for node in nodes}
    for node in nodes:
        path: list[str] = []
        on_path: set[str] = set()
        uri: str | None = node.uri
        while uri and uri not in done:
            if uri in on_path:
                cycle = path[path.index(uri) :] + [uri]
                raise FrameworkFileError(
                    "The tree has a cycle: " + " → ".join(cycle) + ".", lines.get(uri)
                )
            on_path.add(uri)
            path.append(uri)
            uri = parents.get(uri)
        done.update(path)


def save_framework(data: FrameworkData) -> ImportResult:
    """Create or update the framework of ``data`` (matched by its id, then its URI); flushes."""
    check_framework_data(data)
    framework = db.session.scalar(select(Framework).where(Framework.slug == data.slug))
    if framework is None:
        framework = db.session.scalar(select(Framework).where(Framework.uri == data.uri))
    if framework is None:
        framework = Framework(slug=data.slug, uri=data.uri, name=data.name)
        db.session.add(framework)
    elif framework.uri != data.uri and db.session.scalar(
        select(Framework.id).where(Framework.uri == data.uri, Framework.id != framework.id)
    ):
        raise FrameworkFileError(f"Another framework already has the URI “{data.uri}”.")
    framework.slug, framework.uri, framework.name = data.slug, data.uri, data.name
    framework.description, framework.source = data.description, data.source
    db.session.flush()
    _save_levels(framework, data.levels)
    created, updated, unchanged, kept = _save_nodes(framework, data.nodes)
    if created or updated:
        framework.updated_at = utcnow()  # search indexes kept in memory rebuild on this
        db.session.flush()
    return ImportResult(framework.slug, created, updated, unchanged, kept)


def _save_levels(framework: Framework, levels: list[LevelData]) -> None:
    used = max(
        db.session.scalar(
            select(func.max(CourseOutcome.level))
            .join(Skill, Skill.id == CourseOutcome.skill_id)
            .where(Skill.framework_id == framework.id)
        )
        or 0,
        db.session.scalar(
            select(func.max(ActivityOutcome.level))
            .join(Skill, Skill.id == ActivityOutcome.skill_id)
            .where(Skill.framework_id == framework.id)
        )
        or 0,
    )
    if used > len(levels):
        raise FrameworkFileError(
            f"The scale has {len(levels)} levels, but outcomes of “{framework.name}” use level "
            f"{used}: keep at least {used} levels."
        )
    by_rank = {level.rank: level for level in framework.levels}
    for rank, level in enumerate(levels, 1):
        row = by_rank.pop(rank, None)
        if row is None:
            row = ProficiencyLevel(rank=rank)
            framework.levels.append(row)
        row.name, row.is_default, row.proficient = level.name, level.is_default, level.proficient
    for row in by_rank.values():
        framework.levels.remove(row)
    db.session.flush()


_FIELDS = ("kind", "preferred_label", "alt_labels", "description", "skill_type", "position")


def _node_row(node: NodeData, position: int) -> dict:
    return {
        "kind": node.kind,
        "preferred_label": node.label,
        "alt_labels": "\n".join(node.alt_labels),
        "description": node.description,
        "skill_type": node.skill_type,
        "position": position,
    }


def _save_nodes(framework: Framework, nodes: list[NodeData]) -> tuple[int, int, int, int]:
    columns = [getattr(Skill, name) for name in ("id", "uri", "parent_id", *_FIELDS)]
    existing = {
        row.uri: row
        for row in db.session.execute(select(*columns).where(Skill.framework_id == framework.id))
    }
    positions: dict[str | None, int] = {}
    inserts, updates, changed = [], [], set()
    for node in nodes:
        position = positions.get(node.parent_uri, 0)
        positions[node.parent_uri] = position + 1
        row = _node_row(node, position)
        old = existing.get(node.uri)
        if old is None:
            inserts.append({"framework_id": framework.id, "uri": node.uri, **row})
        elif any(getattr(old, name) != row[name] for name in _FIELDS):
            updates.append({"id": old.id, **row})
            changed.add(node.uri)
    if inserts:
        db.session.execute(insert(Skill), inserts)
    if updates:
        db.session.execute(update(Skill), updates)
    # Parents last, once every node has an id.
    ids = {
        uri: skill_id
        for uri, skill_id in db.session.execute(
            select(Skill.uri, Skill.id).where(Skill.framework_id == framework.id)
        )
    }
    moves = []
    for node in nodes:
        parent_id = ids[node.parent_uri] if node.parent_uri else None
        old = existing.get(node.uri)
        if (old.parent_id if old is not None else None) != parent_id:
            moves.append({"id": ids[node.uri], "parent_id": parent_id})
            if old is not None:
                changed.add(node.uri)
    if moves:
        db.session.execute(update(Skill), moves)
    db.session.flush()
    db.session.expire_all()
    in_file = {node.uri for node in nodes}
    kept = len(set(existing) - in_file)
    unchanged = len(set(existing) & in_file) - len(changed)
    return len(inserts), len(changed), unchanged, kept


def framework_data(framework: Framework) -> FrameworkData:
    """``framework`` as plain data, nodes in tree order (each parent before its children)."""
    rows = list(
        db.session.execute(
            select(
                Skill.id,
                Skill.parent_id,
                Skill.uri,
                Skill.kind,
                Skill.preferred_label,
                Skill.alt_labels,
                Skill.description,
                Skill.skill_type,
                Skill.position,
            )
            .where(Skill.framework_id == framework.id)
            .order_by(Skill.position, Skill.id)
        )
    )
    uris = {row.id: row.uri for row in rows}
    children: dict[int | None, list] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    nodes: list[NodeData] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        row = stack.pop()
        nodes.append(
            NodeData(
                uri=row.uri,
                label=row.preferred_label,
                alt_labels=[a for a in row.alt_labels.splitlines() if a.strip()],
                description=row.description,
                skill_type=row.skill_type,
                kind=row.kind,
                parent_uri=uris.get(row.parent_id),
            )
        )
        stack.extend(reversed(children.get(row.id, [])))
    return FrameworkData(
        slug=framework.slug,
        name=framework.name,
        uri=framework.uri,
        description=framework.description,
        source=framework.source,
        levels=[LevelData(lv.name, lv.is_default, lv.proficient) for lv in framework.levels],
        nodes=nodes,
    )
