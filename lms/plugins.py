"""Activity-type plugins (Moodle's ``mod_*``) and the per-app registry that finds them.

Every activity type, built-in or third party, is an installed entry point in the ``lms.activities``
group naming an :class:`ActivityType` subclass. The registry lives in ``app.extensions`` so tests can
build apps with different plugin sets without touching module globals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, ClassVar

from flask import Flask, current_app

if TYPE_CHECKING:
    from flask import Blueprint
    from markupsafe import Markup

    from lms.domain.models import Activity
    from lms.models import User

ENTRY_POINT_GROUP = "lms.activities"
COMPONENT_GROUP = "lms.components"


class PluginError(RuntimeError):
    """A plugin could not be loaded; the message names it and says why."""


@dataclass(frozen=True)
class GradeResult:
    """What grading an attempt yields: a status, a score out of 100 and feedback for the learner."""

    status: str  # "passed", "failed", "pending" or "error"
    score: float | None = None
    feedback: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GradebookEntry:
    """One learner's grade in one activity as the gradebook shows it."""

    score: float | None  # 0..100
    feedback: str = ""  # Markdown, shown to the learner with the grade
    released: bool = True  # False: graded, but learners do not see it yet


@dataclass(frozen=True)
class DueDate:
    """A date a learner must meet in an activity (for calendars and the iCalendar feed)."""

    activity_id: int
    title: str
    at: datetime
    kind: str = "due"  # "due", "cutoff" or "closes"


class ActivityType:
    """Base class for an activity type.

    A type names its ``key`` (also the polymorphic identity of its joined-table ``model``), a
    human ``label``, an authoring ``form`` for its own fields and an optional ``blueprint`` for its
    learner and authoring pages. Methods take validated data and return values: they never read
    ``flask.request`` and never commit (services flush, the request commits).
    """

    key: ClassVar[str]
    label: ClassVar[str]
    model: ClassVar[type[Activity]]
    form: ClassVar[type | None] = None
    blueprint: ClassVar[Blueprint | None] = None
    description: ClassVar[str] = ""
    icon: ClassVar[str] = "activity"
    #: completion rules an author may pick for this type (see lms.progress)
    completion_rules: ClassVar[tuple[str, ...]] = ("none", "viewed")
    #: whether the type produces a grade (0-100) that counts towards the course grade
    graded: ClassVar[bool] = False
    #: wording of completion rules on the authoring form where the type means something special
    rule_labels: ClassVar[dict[str, str]] = {}
    #: whether passing an activity of this type shows skills, so authors may declare its
    #: outcomes (skill + level); the outcomes themselves are core data (lms.skills)
    develops_skills: ClassVar[bool] = False
    #: what the cluster's indicators read from this type's completions: "practical" (pass rate
    #: of hands-on work, e.g. labs), "assessment" (mean score, e.g. quizzes) or "" (neither)
    cluster_measure: ClassVar[str] = ""
    #: the xAPI activity type IRI of its statements (ADL's vocabulary); a plain interaction
    #: when the type does not say
    xapi_activity_type: ClassVar[str] = "http://adlnet.gov/expapi/activities/interaction"
    #: stylesheets every page loads for this type: (static endpoint, filename) pairs
    stylesheets: ClassVar[tuple[tuple[str, str], ...]] = ()

    def init_app(self, app: Flask) -> None:
        """Register the blueprint and anything else the type needs on ``app``."""
        if self.blueprint is not None and self.blueprint.name not in app.blueprints:
            app.register_blueprint(self.blueprint)

    # --- authoring -------------------------------------------------------------------------
    def new_activity(self, **common: Any) -> Activity:
        """Create an unsaved activity of this type with the common fields set."""
        return self.model(**common)

    def form_data(self, activity: Activity) -> dict[str, Any]:
        """Values to pre-fill the type's authoring form from ``activity``."""
        return {}

    def prepare_form(
        self, form: Any, course: Any, activity: Activity | None, module: Any = None
    ) -> None:
        """Fit the authoring ``form`` to ``course`` before it is validated or shown (choices
        from the course's data, links to its pages); ``activity`` is ``None`` for a new one,
        which will go into ``module``."""

    def apply_form(self, activity: Activity, data: dict[str, Any], author: User) -> None:
        """Store validated authoring ``data`` on ``activity``."""

    def author_links(self, activity: Activity) -> list[tuple[str, str]]:
        """Extra authoring pages (label, url), e.g. the question bank or the lab tests."""
        return []

    # --- learning ----------------------------------------------------------------------------
    def render(self, activity: Activity, user: User) -> Markup:
        """HTML for the main column of the activity page, as the learner sees it."""
        raise NotImplementedError

    def learner_summary(self, activity: Activity, user: User) -> dict[str, Any]:
        """Small facts for lists and transcripts (best grade, attempts) for ``user``."""
        return {}

    # --- grades and dates ---------------------------------------------------------------------
    def gradebook_entries(
        self, activities: list[Activity], user_ids: list[int] | None
    ) -> dict[tuple[int, int], GradebookEntry] | None:
        """Grades of ``activities`` (all of this type) keyed by (activity id, user id), in a
        constant number of queries; ``user_ids=None`` means every learner. ``None`` (the
        default) lets the gradebook use the grades the type reported to progress."""
        return None

    def due_dates(self, activities: list[Activity], user_id: int) -> list[DueDate]:
        """Dates ``user_id`` must meet in ``activities`` (all of this type), set-based."""
        return []

    # --- archive -----------------------------------------------------------------------------
    def export_course_data(self, course: Any, files: dict[str, bytes]) -> dict[str, Any] | None:
        """Course-level data of this type (e.g. the quiz question bank), exported once per course
        before any activity; ``None`` when the type keeps nothing at course level."""
        return None

    def import_course_data(
        self, course: Any, data: dict[str, Any], files: dict[str, bytes]
    ) -> None:
        """Restore what :meth:`export_course_data` produced, before the activities are imported."""

    def export_content(self, activity: Activity, files: dict[str, bytes]) -> dict[str, Any]:
        """JSON-able content of ``activity`` for the course archive; extra files go in ``files``."""
        return {}

    def import_content(
        self, activity: Activity, content: dict[str, Any], files: dict[str, bytes]
    ) -> None:
        """Fill a new ``activity`` from archived ``content``; raise ``ValueError`` on bad data."""


class ActivityRegistry:
    """The activity types of one app, by key."""

    def __init__(self) -> None:
        self._types: dict[str, ActivityType] = {}

    def register(self, activity_type: ActivityType, source: str = "") -> None:
        """Add an activity type, refusing a missing or duplicate key."""
        key = getattr(activity_type, "key", None)
        if not key or not isinstance(key, str):
            raise PluginError(f"Activity plugin {source or activity_type!r} has no string 'key'.")
        if key in self._types:
            raise PluginError(
                f"Duplicate activity plugin key {key!r}: {source or activity_type!r} "
                f"clashes with {type(self._types[key]).__module__}."
            )
        for attr in ("label", "model"):
            if not hasattr(activity_type, attr):
                raise PluginError(f"Activity plugin {key!r} ({source}) has no {attr!r}.")
        self._types[key] = activity_type

    def get(self, key: str) -> ActivityType | None:
        """Activity type of this key, if installed."""
        return self._types.get(key)

    def __getitem__(self, key: str) -> ActivityType:
        return self._types[key]

    def __contains__(self, key: object) -> bool:
        return key in self._types

    def __iter__(self):
        return iter(self._types.values())

    def keys(self) -> list[str]:
        """Keys of the installed activity types."""
        return list(self._types)


def _load(ep: EntryPoint, group: str) -> Any:
    try:
        obj = ep.load()
    except Exception as exc:  # any import error of a third-party plugin
        raise PluginError(
            f"Could not load plugin {ep.name!r} ({ep.value}) from group {group!r}: {exc}"
        ) from exc
    return obj() if isinstance(obj, type) else obj


def discover_entry_points(group: str) -> list[EntryPoint]:
    """Entry points of ``group``, in a stable order."""
    return sorted(entry_points(group=group), key=lambda ep: ep.name)


def build_registry(app: Flask, extra: Iterable[Any] = ()) -> ActivityRegistry:
    """Fill the app's registry from the entry-point group, narrowed by ``ACTIVITY_PLUGINS``."""
    wanted = set(app.config.get("ACTIVITY_PLUGINS") or [])
    registry = ActivityRegistry()
    seen_names: set[str] = set()
    for ep in discover_entry_points(ENTRY_POINT_GROUP):
        if wanted and ep.name not in wanted:
            continue
        if ep.name in seen_names:
            # Two installed distributions declare the same name: refuse rather than pick one.
            raise PluginError(f"Duplicate activity plugin entry point {ep.name!r} ({ep.value}).")
        seen_names.add(ep.name)
        registry.register(_load(ep, ENTRY_POINT_GROUP), source=f"{ep.name} = {ep.value}")
    for obj in extra:
        plugin = obj() if isinstance(obj, type) else obj
        registry.register(plugin, source=repr(plugin))
    missing = wanted - set(registry.keys())
    if missing:
        raise PluginError(f"ACTIVITY_PLUGINS names unknown plugins: {', '.join(sorted(missing))}.")
    return registry


def activity_registry(app: Flask | None = None) -> ActivityRegistry:
    """The registry of ``app`` (default: the current app)."""
    return (app or current_app).extensions["lms.activities"]


def activity_type(key: str) -> ActivityType:
    """The registered type for ``key``; ``KeyError`` if the plugin is not installed."""
    return activity_registry()[key]


class Component:
    """A feature package (the course blueprint, the labs) plugged in through ``lms.components``.

    Components register blueprints, CLI commands and demo-seed steps; core code never imports one.
    """

    name: ClassVar[str]
    #: order of seed steps: lower runs first (core organizations/users run at 0)
    seed_order: ClassVar[int] = 100
    #: stylesheets every page loads for this component: (static endpoint, filename) pairs
    stylesheets: ClassVar[tuple[tuple[str, str], ...]] = ()

    def init_app(self, app: Flask) -> None:
        """Register blueprints, CLI groups and hooks."""

    def seed_demo(self) -> None:
        """Add this component's demo content (idempotent). Runs inside an app context."""

    # --- pages core links to (see lms.links): (endpoint, values), or None -------------------
    def course_page(self, course: Any) -> tuple[str, dict[str, Any]] | None:
        """The endpoint of ``course``'s page, if this component provides course pages."""
        return None

    def activity_page(self, course: Any, activity_id: int) -> tuple[str, dict[str, Any]] | None:
        """The endpoint of an activity's page in ``course``, if this component provides one."""
        return None

    def catalog_page(self) -> tuple[str, dict[str, Any]] | None:
        """The endpoint of the course catalog, if this component provides one."""
        return None

    def page_links(self, place: str) -> list[tuple[str, str, dict[str, Any]]]:
        """Links (label, endpoint, values) this component adds to the core page ``place``."""
        return []


def load_components(app: Flask) -> list[Component]:
    """Instantiate every installed component, in a stable order."""
    return [_load(ep, COMPONENT_GROUP) for ep in discover_entry_points(COMPONENT_GROUP)]


def plugin_stylesheets(app: Flask | None = None) -> list[tuple[str, str]]:
    """The stylesheets of every component and activity type, in registration order."""
    app = app or current_app
    sheets: list[tuple[str, str]] = []
    for owner in [*app.extensions.get("lms.components", []), *activity_registry(app)]:
        sheets.extend(sheet for sheet in owner.stylesheets if sheet not in sheets)
    return sheets
