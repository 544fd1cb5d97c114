"""EduCluster core: the app factory and the services every feature builds on."""

from __future__ import annotations

import importlib
import os
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from lms.config import DEFAULTS, config_from_env, load_or_create_secret_key

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the EduCluster app: configuration, extensions, plugins, blueprints, CLI.

    No side effects beyond creating ``instance/``: no migrations and no network here.
    """
    app = Flask(
        __name__,
        instance_path=os.environ.get("LMS_INSTANCE_PATH") or os.path.join(ROOT, "instance"),
        instance_relative_config=True,
        template_folder=os.path.join(ROOT, "templates"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    # Before any route is added: <int:id> segments beyond SQL INTEGER answer 404, not 500.
    # (Imported here: lms/__init__ runs before every `import lms.x`; the factory loads the
    # app's parts only when it builds an app, so importing one core module stays light.)
    from lms.urls import DatabaseIdConverter

    app.url_map.converters["int"] = DatabaseIdConverter
    app.config.from_mapping(DEFAULTS)
    app.config.from_mapping(config_from_env(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_secret_key(app.instance_path)
    trust_proxies(app)

    register_extensions(app)
    register_plugins(app)
    register_components(app)
    register_features(app)
    register_cli(app)
    register_hooks(app)
    return app


def trust_proxies(app: Flask) -> None:
    """Believe X-Forwarded-For/-Proto/-Host/-Prefix only from ``PROXY_COUNT`` proxies.

    Without a proxy (the default) these headers are ignored: anyone can send them. Behind the
    README's TLS proxy, ``PROXY_COUNT=1`` gives login throttling the client's real address.
    """
    count = int(app.config.get("PROXY_COUNT") or 0)
    if count > 0:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_prefix=count
        )


def register_extensions(app: Flask) -> None:
    """Bind the database, CSRF, login and migrations to the app and load every core model table."""
    # imported here: lms/__init__ runs before every `import lms.x`; the factory loads the
    # app's parts only when it builds an app, so importing one core module stays light.
    from lms.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    from lms import db_sqlite  # imported here: see above

    db_sqlite.init_app(app)  # WAL and a busy timeout for SQLite files (see the module)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    # Import every core model so metadata (and Alembic) sees all tables (here, not at the top:
    # see above).
    import lms.calendar.models  # noqa: F401
    import lms.cluster.models  # noqa: F401
    import lms.credentials.models  # noqa: F401
    import lms.domain.models  # noqa: F401
    import lms.gradebook.models  # noqa: F401
    import lms.lti.models  # noqa: F401
    import lms.models  # noqa: F401
    import lms.pagecache.models  # noqa: F401
    import lms.progress.models  # noqa: F401
    import lms.skills.gap_models  # noqa: F401
    import lms.skills.holder_models  # noqa: F401
    import lms.skills.models  # noqa: F401
    import lms.xapi.models  # noqa: F401


def register_plugins(app: Flask) -> None:
    """Build the activity-type registry from the installed plugins and store it on the app."""
    # imported here: lms/__init__ runs before every `import lms.x`; the factory loads the
    # app's parts only when it builds an app, so importing one core module stays light.
    from lms.plugins import build_registry

    registry = build_registry(app, extra=app.config.get("EXTRA_ACTIVITY_TYPES", ()))
    app.extensions["lms.activities"] = registry
    for activity_type in registry:
        activity_type.init_app(app)


def register_components(app: Flask) -> None:
    """Load the component plugins (courses, labs) and let each register its blueprints."""
    # imported here: lms/__init__ runs before every `import lms.x`; the factory loads the
    # app's parts only when it builds an app, so importing one core module stays light.
    from lms.plugins import load_components

    components = load_components(app)
    app.extensions["lms.components"] = components
    for component in components:
        component.init_app(app)


#: The feature packages of core, in the order they register: each has an ``init_app(app)`` that
#: adds its blueprint, signal receivers, CLI commands, navigation and seed steps (the one way a
#: blueprint is registered; ``lms.auth`` registers its pages with its hooks, see register_hooks). Progress comes
#: first (its CLI group and signals are used by the others); the ledger's receivers must run
#: before the certificates they cause, which ``lms.credentials`` orders itself.
FEATURES = (
    "lms.main",
    "lms.pagecache",
    "lms.admin",
    "lms.progress",
    "lms.credentials",
    "lms.xapi",
    "lms.hr",
    "lms.api",
    "lms.lti",
    "lms.gradebook",
    "lms.calendar",
    "lms.skills",
    "lms.cluster",
)


def register_features(app: Flask) -> None:
    """Let every feature package of core register itself (see :data:`FEATURES`)."""
    for name in FEATURES:
        importlib.import_module(name).init_app(app)


def register_cli(app: Flask) -> None:
    """Add the `lms` and `skills` command groups to the flask CLI."""
    # imported here: lms/__init__ runs before every `import lms.x`; the factory loads the
    # app's parts only when it builds an app, so importing one core module stays light.
    from lms.cli import lms_cli
    from lms.skills.cli import skills_cli

    app.cli.add_command(lms_cli)
    app.cli.add_command(skills_cli)


def register_hooks(app: Flask) -> None:
    """Install the request hooks: URL checks, login, error pages, links, permissions, security headers, templating."""
    # imported here: lms/__init__ runs before every `import lms.x`; the factory loads the
    # app's parts only when it builds an app, so importing one core module stays light.
    from lms import assets, auth, errors, links, permissions, security, templating, urls

    urls.init_app(app)  # first: refuse NUL characters before any view or hook reads input
    auth.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    permissions.init_app(app)
    templating.init_app(app)
    links.init_app(app)
    assets.init_app(app)  # every static URL names its file's version
