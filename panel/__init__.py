"""Panel de Clientes: the application factory."""

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import config as settings
from .extensions import babel, csrf, db, include_object, limiter, login_manager, migrate


def create_app(config: dict | None = None) -> Flask:
    """Build the app: configuration → extensions → blueprints → admin → commands."""
    app = Flask(
        __name__, template_folder=str(settings.ROOT / "templates"), instance_path=str(settings.INSTANCE)
    )
    app.config.from_object(settings.Defaults)
    # An explicit config (tests) defaults PANEL_ENV to testing; it overrides the environment.
    app.config.update(settings.from_environment(default_env="testing" if config else "production"))
    app.config.update(config or {})
    register_extensions(app)
    register_blueprints(app)
    register_context(app)
    from .admin import init_admin

    app.extensions["panel_admin"] = init_admin(app)
    from .cli import init_app as init_cli

    init_cli(app)
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(settings.ROOT / "migrations"),
        render_as_batch=True,
        include_object=include_object,
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=lambda: "es")
    login_manager.init_app(app)
    limiter.init_app(app)
    from . import tenancy

    tenancy.init_app(app)
    __import__("panel.security").security.init_app(app)  # security headers (panel/security.py)


def register_blueprints(app: Flask) -> None:
    from . import api, auth, sms

    auth.init_app(app)
    sms.init_app(app)
    api.init_app(app)


def register_context(app: Flask) -> None:
    from babel.numbers import format_decimal
    from flask_babel import format_datetime

    from .models.users import ROLE_LABELS

    app.jinja_env.filters["numero"] = lambda value: format_decimal(value or 0, locale="es_CO")
    app.jinja_env.filters["fecha_hora"] = lambda value: format_datetime(value, "short") if value else ""

    @app.context_processor
    def _panel_context():
        simulated = not (app.config.get("TWILIO_ACCOUNT_SID") and app.config.get("TWILIO_AUTH_TOKEN"))
        return {"sms_simulation": simulated, "role_label": lambda rol: ROLE_LABELS.get(rol, rol)}

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
