"""The activity plugin registry: a third-party type through a real entry point, duplicate and
broken plugins, and narrowing with ``ACTIVITY_PLUGINS``."""

from __future__ import annotations

from pathlib import Path

import pytest

from lms.extensions import db
from lms.plugins import ENTRY_POINT_GROUP, PluginError, activity_registry, discover_entry_points
from tests.conftest import make_app

CHECKLIST = "tests.thirdparty_plugin.checklist"


def install_distribution(site: Path, name: str, entry_points: dict[str, str]) -> None:
    """Write ``<name>-1.0.dist-info`` as pip would: importlib.metadata finds it on sys.path."""
    # As in wheels, the folder name escapes "-" in the project name (else "educluster-checklist"
    # would read as project "educluster" and shadow the real one).
    dist = site / f"{name.replace('-', '_')}-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = [f"[{ENTRY_POINT_GROUP}]"] + [f"{k} = {v}" for k, v in entry_points.items()]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture(autouse=True)
def checklist_table(app):
    """Importing the plugin adds ``test_checklists`` to the shared metadata for the rest of the
    session; create it in the test database so every later test's cleanup finds it."""
    from tests.thirdparty_plugin.checklist import Checklist

    with app.app_context():
        Checklist.__table__.create(db.engine, checkfirst=True)


@pytest.fixture
def site_packages(tmp_path, monkeypatch):
    """A directory on sys.path for fake installed distributions (removed after the test)."""
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    return site


@pytest.fixture
def build(app, database_url, instance_path):
    """Build another app on the test database (``app`` has created the schema)."""
    built = []

    def _build(**config):
        new = make_app(database_url, instance_path, **config)
        built.append(new)
        return new

    yield _build
    for other in built:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_builtin_types_come_from_the_entry_point_group(app):
    names = {ep.name for ep in discover_entry_points(ENTRY_POINT_GROUP)}
    with app.app_context():
        assert set(activity_registry().keys()) == names
        assert {"lesson", "quiz", "lab"} <= names


def test_third_party_checklist_plugin_is_registered_and_usable(site_packages, build):
    install_distribution(
        site_packages, "educluster-checklist", {"checklist": f"{CHECKLIST}:ChecklistType"}
    )
    app = build()
    from lms.domain.models import Activity, Course, Module
    from tests.thirdparty_plugin.checklist import Checklist

    with app.app_context():
        registry = activity_registry()
        assert "checklist" in registry and {"lesson", "quiz", "lab"} <= set(registry.keys())
        checklist_type = registry["checklist"]
        assert checklist_type.label == "Checklist" and checklist_type.model is Checklist
        assert Checklist.__tablename__ == "test_checklists"  # ignored by the drift test
        course = Course(slug="safety", title="Safety")
        module = Module(course=course, title="Walk-through", position=1)
        activity = checklist_type.new_activity(course=course, module=module, title="Before work")
        checklist_type.apply_form(activity, {"items": "Helmet\nGloves\n<b>Boots</b>"}, None)
        db.session.add_all([course, module, activity])
        db.session.commit()
        activity_id = activity.id
        db.session.expunge_all()
        loaded = db.session.get(Activity, activity_id)
        assert isinstance(loaded, Checklist) and loaded.type == "checklist"
        assert loaded.item_list == ["Helmet", "Gloves", "<b>Boots</b>"]
        html = checklist_type.render(loaded, None)
        assert "<li>Helmet</li>" in html and "&lt;b&gt;Boots&lt;/b&gt;" in html
        exported = checklist_type.export_content(loaded, {})
        copy = checklist_type.new_activity(course=loaded.course, module=loaded.module, title="Copy")
        checklist_type.import_content(copy, exported, {})
        assert copy.items == loaded.items
        with pytest.raises(ValueError):
            checklist_type.import_content(copy, {"items": "not a list"}, {})
    # The plugin's own blueprint was registered by the registry, without touching core code.
    page = app.test_client().get(f"/x-checklist/{activity_id}")
    assert page.status_code == 200 and b"<li>Gloves</li>" in page.data


def test_app_without_the_distribution_has_no_checklist(build):
    with build().app_context():
        assert "checklist" not in activity_registry()


def test_duplicate_key_is_a_clear_startup_error(site_packages, build):
    install_distribution(
        site_packages,
        "educluster-checklist",
        {
            "checklist": f"{CHECKLIST}:ChecklistType",
            "checklist_fork": f"{CHECKLIST}:DuplicateChecklistType",
        },
    )
    with pytest.raises(PluginError) as excinfo:
        build()
    message = str(excinfo.value)
    assert "Duplicate activity plugin key 'checklist'" in message
    assert "checklist_fork" in message


def test_duplicate_entry_point_name_is_a_clear_startup_error(site_packages, build):
    install_distribution(site_packages, "one-plugin", {"checklist": f"{CHECKLIST}:ChecklistType"})
    install_distribution(site_packages, "two-plugin", {"checklist": f"{CHECKLIST}:ChecklistType"})
    with pytest.raises(PluginError, match="Duplicate activity plugin entry point 'checklist'"):
        build()


def test_broken_plugin_is_a_clear_startup_error(site_packages, build):
    install_distribution(
        site_packages, "educluster-broken", {"broken": "tests.thirdparty_plugin.broken:BrokenType"}
    )
    with pytest.raises(PluginError) as excinfo:
        build()
    message = str(excinfo.value)
    assert "Could not load plugin 'broken'" in message
    assert "tests.thirdparty_plugin.broken:BrokenType" in message
    assert "educluster_no_such_dependency" in message


def test_missing_module_plugin_is_a_clear_startup_error(site_packages, build):
    install_distribution(site_packages, "educluster-gone", {"gone": "educluster_gone.plugin:Gone"})
    with pytest.raises(PluginError, match="Could not load plugin 'gone'"):
        build()


def test_activity_plugins_narrows_the_registry(site_packages, build):
    install_distribution(
        site_packages, "educluster-checklist", {"checklist": f"{CHECKLIST}:ChecklistType"}
    )
    # A broken plugin that is not wanted is never imported, so it cannot stop the site.
    install_distribution(
        site_packages, "educluster-broken", {"broken": "tests.thirdparty_plugin.broken:BrokenType"}
    )
    app = build(ACTIVITY_PLUGINS=["lesson", "checklist"])
    with app.app_context():
        assert sorted(activity_registry().keys()) == ["checklist", "lesson"]


def test_activity_plugins_naming_an_unknown_plugin_fails(build):
    with pytest.raises(PluginError, match="ACTIVITY_PLUGINS names unknown plugins: nope"):
        build(ACTIVITY_PLUGINS=["lesson", "nope"])


def test_registries_are_per_app(site_packages, build):
    install_distribution(
        site_packages, "educluster-checklist", {"checklist": f"{CHECKLIST}:ChecklistType"}
    )
    narrow = build(ACTIVITY_PLUGINS=["lesson"])
    wide = build()
    assert activity_registry(narrow).keys() == ["lesson"]
    assert "checklist" in activity_registry(wide)
