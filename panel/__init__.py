"""Panel de Clientes: the application factory."""

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import config as settings
from .extensions import babel, csrf, db, include_object, login_manager, migrate


def create_app(config: dict | None = None) -> Flask:
    """Build the app; each step below is one function of this module."""
    app = Flask(
        __name__, template_folder=str(settings.ROOT / "templates"), instance_path=str(settings.INSTANCE)
    )
    # An explicit config (tests) defaults PANEL_ENV to testing; it overrides the environment.
    app.config.update(settings.load(config))
    register_converters(app)
    register_extensions(app)
    register_blueprints(app)
    register_admin(app)
    register_commands(app)
    register_errorhandlers(app)
    check_encryption_key(app)
    start_sender(app)
    return app


def register_converters(app: Flask) -> None:
    """Every ``<int:…>`` of every route is an id within INTEGER (panel/ids.py). Werkzeug binds a
    rule's converters when the rule is added, so this runs before any blueprint or view."""
    from .ids import IdConverter

    app.url_map.converters["int"] = IdConverter


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions of panel/extensions.py, tenancy, the security headers and the
    static files' fingerprints."""
    from . import consent, read_only, security, static_files, tenancy, translations  # noqa: F401  (consent: its flush hook)

    db.init_app(app)
    read_only.init_app(app)  # a request that only read commits: the driver keeps its prepared statements
    migrate.init_app(
        app,
        db,
        directory=str(settings.ROOT / "migrations"),
        render_as_batch=True,
        include_object=include_object,
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=lambda: "es")
    translations.init_app(app)  # our catalogue completes and overrides Flask-Admin's Spanish one
    login_manager.init_app(app)
    tenancy.init_app(app)
    security.init_app(app)
    static_files.init_app(app)


def register_blueprints(app: Flask) -> None:
    """Login, the Twilio webhooks, the JSON API, the SMS document's pages, the tracked links'
    redirect, and what every page's template sees."""
    from . import api, auth, documento, sms, visitas

    auth.init_app(app)
    sms.init_app(app)
    api.init_app(app)
    documento.init_app(app)
    visitas.init_app(app)
    register_context(app)


def register_admin(app: Flask) -> None:
    """Flask-Admin at /admin/, built for this app."""
    from .admin import init_admin

    app.extensions["panel_admin"] = init_admin(app)


def register_commands(app: Flask) -> None:
    """The flask commands (panel/cli.py)."""
    from .cli import init_app

    init_app(app)


def register_errorhandlers(app: Flask) -> None:
    """Error pages in the panel's layout, JSON on API paths (panel/error_pages.py)."""
    from . import error_pages

    error_pages.init_app(app)


def check_encryption_key(app: Flask) -> None:
    """Production refuses to start when tenants stored Twilio tokens and no key opens them."""
    from .sms.cuentas_envio import check_key

    with app.app_context():
        check_key(app.config)


def start_sender(app: Flask) -> None:
    """Arm the embedded SMS sender: its thread starts with the first request of a web process."""
    from .sms.runners import start_sender as arm

    arm(app)


def register_context(app: Flask) -> None:
    """Jinja filters, the simulation banner's flag, role labels and the home redirect."""
    from . import formatting

    formatting.init_app(app)

    @app.context_processor
    def _panel_context():
        simulated = settings.is_simulation(app.config)
        return {"sms_simulation": simulated, "role_label": lambda rol: formatting.label("rol", rol)}

    @app.route("/")
    def _home():
        from flask import redirect, url_for

        return redirect(url_for("admin.index"))


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """WAL, a busy timeout and enforced foreign keys on every SQLite connection."""
    import sqlite3

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
