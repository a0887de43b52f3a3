"""Fixtures: a migrated database per test session (SQLite file, or a fresh PostgreSQL
database when DATABASE_URL points at PostgreSQL), an app per test, the tenants. The migrations
run once per test process, into a template; every other migrated database is a copy of it."""

import atexit
import contextvars
import gc
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from types import SimpleNamespace

import psycopg
import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade

from panel import create_app
from panel.extensions import db

from . import factories
from .helpers import PASSWORD_METHOD
from .services import PG_ADMIN_URL, require_postgres
from .support.app_reuse import REUSE
from .support.routes import share_compiled_url_builders
from .support.templates import TEMPLATES

pytest_plugins = [
    "tests.twilio_fixtures",
    "tests.clock_fixtures",
    "tests.support.fixtures",
    "tests.support.reglas",
]

share_compiled_url_builders()  # an app per test, its URL builders compiled once per run


def _postgres_server() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgres") else None


class DatabaseFactory:
    """Makes fresh, empty databases of the kind under test, and drops them at the end."""

    def __init__(self, tmp_path_factory):
        self.tmp = tmp_path_factory
        self.server = _postgres_server()
        self.created: list[str] = []
        self.template: str | None = None  # a migrated database that migrated_database copies

    def copy(self, url: str) -> str:
        """A new database holding what ``url`` holds (nothing may be connected to ``url``)."""
        if not self.server:
            new = f"sqlite:///{self.tmp.mktemp('db') / 'panel.db'}"
            with closing(sqlite3.connect(sa.make_url(url).database)) as source:
                with closing(sqlite3.connect(sa.make_url(new).database)) as target:
                    source.backup(target)  # SQLite's online backup: a consistent copy, WAL included
            return new
        name = f"panel_test_{secrets.token_hex(4)}"
        with psycopg.connect(self._admin_dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{sa.make_url(url).database}"')
        self.created.append(name)
        return sa.make_url(url).set(database=name).render_as_string(hide_password=False)

    def new(self) -> str:
        if not self.server:
            return f"sqlite:///{self.tmp.mktemp('db') / 'panel.db'}"
        require_postgres()
        name = f"panel_test_{secrets.token_hex(4)}"
        with psycopg.connect(self._admin_dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return (
            sa.make_url(self.server)
            .set(drivername="postgresql+psycopg", database=name)
            .render_as_string(hide_password=False)
        )

    def _admin_dsn(self) -> str:
        return sa.make_url(self.server).set(drivername="postgresql").render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with psycopg.connect(self._admin_dsn(), autocommit=True) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    factory = DatabaseFactory(tmp_path_factory)
    yield factory
    if factory.created:
        factory.drop_all()


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production: its own session,
    its own ``g`` (Flask would otherwise reuse the test's pushed context)."""

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            db.session.expire_all()  # the test's own session sees what the request wrote
        return response


def make_app(database_url: str, **extra):
    config = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TESTING": True,
        "SECRET_KEY": "pruebas",
        "SERVER_NAME": None,
        "PASSWORD_HASH_METHOD": PASSWORD_METHOD,
    }
    config.update(extra)
    app = create_app(config)
    app.test_client_class = IsolatedClient
    app.jinja_env.bytecode_cache = TEMPLATES  # templates compiled once per run, not per test
    return app


@contextmanager
def own_postgres_database(prefix: str, own_role: bool = False) -> Iterator[str]:
    """A migrated PostgreSQL database of its own on the local server, whatever engine the run
    uses (tests of what only PostgreSQL has: RLS, COPY, its row locks), dropped afterwards;
    yields its URL. ``own_role``: owned by, and reached as, a role without BYPASSRLS (this test
    process's own, made once), so FORCE ROW LEVEL SECURITY applies. Each is a copy of a template
    migrated once per test process (``CREATE DATABASE … TEMPLATE``), not migrated again."""
    require_postgres()
    template, role = _postgres_template(own_role)
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"' + (f" OWNER {role}" if role else ""))
    url = sa.make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    url = (url.set(username=role) if role else url).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_PG_TEMPLATES: dict[bool, tuple[str, str | None]] = {}


def _postgres_template(own_role: bool) -> tuple[str, str | None]:
    """(template database, role) for own_postgres_database, migrated on first use in this process.
    With ``own_role`` the role owns the template and migrates it, so it owns every table of the
    copies too (as an application role would); both go when the process ends."""
    if own_role not in _PG_TEMPLATES:
        name = f"panel_tpl_{secrets.token_hex(4)}"
        role = name if own_role else None
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            if role:
                conn.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS")
            conn.execute(f'CREATE DATABASE "{name}"' + (f" OWNER {role}" if role else ""))
        atexit.register(_drop_postgres, name, role)
        url = sa.make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
        _migrate((url.set(username=role) if role else url).render_as_string(hide_password=False))
        _PG_TEMPLATES[own_role] = (name, role)
    return _PG_TEMPLATES[own_role]


def _drop_postgres(name: str, role: str | None) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if role:
            conn.execute(f"DROP ROLE IF EXISTS {role}")


def _migrate(url: str) -> None:
    """Run the migrations to the head on ``url``, leaving no connection open."""
    migrating = make_app(url)
    with migrating.app_context():
        upgrade()
        db.engine.dispose()


REFERENCE_ROWS: dict[str, list[dict]] = {}
REFERENCE_RAW: dict[str, list[tuple]] = {}  # the same rows as the driver returns them, to compare


@pytest.fixture(scope="session")
def database_url(databases):
    """One migrated database for the session; tests empty it after themselves."""
    return migrated_database(databases)


# Shared reference data the migrations load (parents first), put back after each test.
REFERENCE_TABLES = ("pais", "departamento", "ciudad")


def migrated_database(databases) -> str:
    """A new database at the head of the migrations: a copy of this process's template, which
    is migrated once (the first time) and remembers the reference rows it holds."""
    if databases.template is None:
        databases.template = databases.new()
        _migrate(databases.template)
        app = make_app(databases.template)
        with app.app_context():
            with db.engine.connect() as conn:  # to restore after each test
                for name in REFERENCE_TABLES:
                    REFERENCE_ROWS[name] = [dict(r._mapping) for r in _reference_rows(conn, name)]
                    REFERENCE_RAW[name] = _raw_reference_rows(conn, name)
            db.engine.dispose()
    return databases.copy(databases.template)


def _reference_rows(conn, name: str) -> list[sa.Row]:
    table = db.metadata.tables[name]
    return conn.execute(sa.select(table).order_by(*table.primary_key)).all()


def _raw_reference_rows(conn, name: str) -> list[tuple]:
    """The table's rows straight from the driver (no SQL compiled, no types converted): read
    after every test, this is the cheap way to tell whether a test changed them."""
    table = db.metadata.tables[name]
    order = ", ".join(c.name for c in table.primary_key)
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(f"SELECT * FROM {name} ORDER BY {order}")
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        cursor.close()


def _empty_tables() -> None:
    """Delete every row, then put the reference data back as the migrations left it (a test
    may legitimately edit or delete países and ciudades as the superadmin).

    Only what the test touched costs anything: the tables still empty are skipped (one query
    asks them all), and the reference rows, read back and compared whole, are deleted and put
    back only when they differ (re-inserting 1,130 ciudades was most of every test's teardown)."""
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name != "alembic_version"]
    with db.engine.begin() as conn:
        filled = conn.execute(sa.select(*(sa.exists().select_from(t) for t in tables))).one()
        changed = {n for n in REFERENCE_TABLES if _raw_reference_rows(conn, n) != REFERENCE_RAW[n]}
        if changed:  # their rows go back parents first, so their children go too
            changed = set(REFERENCE_TABLES)
        for table, has_rows in zip(tables, filled, strict=True):
            if not has_rows or (table.name in REFERENCE_TABLES and table.name not in changed):
                continue
            if table.name == "usuario":  # self-referencing: the accounts hanging from admins first
                conn.execute(table.delete().where(table.c.creado_por.is_not(None)))
            conn.execute(table.delete())
        for name in REFERENCE_TABLES:
            if name in changed:
                conn.execute(db.metadata.tables[name].insert(), REFERENCE_ROWS[name])


@pytest.fixture
def app(database_url):
    """The app on the session's database, as built: the one built for an earlier test of this
    process when that test left it unchanged (support/app_reuse.py). A kept app keeps its pooled
    connections too (rolled back when returned to the pool): on PostgreSQL a new connection is a
    new server process that loads every table's catalogue entry again, which was ~40 ms of the
    server's CPU per test."""
    app = REUSE.get(database_url, make_app)
    with app.app_context():
        yield app
        db.session.remove()
        _empty_tables()
        if not REUSE.release(app):
            db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def tenants(app):
    """Two tenants (A and B), each with an admin, a vendedor and a client account; a superadmin.
    Each is a plain snapshot (id, email, rol, tenant_id), safe to use across sessions."""
    admin_a = factories.user("admin.a@test.co", "admin")
    admin_b = factories.user("admin.b@test.co", "admin")
    users = dict(
        superadmin=factories.user("super@test.co", "superadmin"),
        admin_a=admin_a,
        vendedor_a=factories.user("vendedor.a@test.co", "vendedor", creado_por=admin_a),
        cliente_a=factories.user("cliente.a@test.co", "cliente", creado_por=admin_a),
        admin_b=admin_b,
        vendedor_b=factories.user("vendedor.b@test.co", "vendedor", creado_por=admin_b),
    )
    return SimpleNamespace(**{k: factories.snapshot(u) for k, u in users.items()})


def pytest_collection_finish(session):
    """What is loaded by now (modules, the collected tests) lives all run: out of the garbage
    collector's full passes, which each test's app would otherwise make walk it again and again."""
    gc.freeze()


# The files that take longest (tens of seconds to minutes each; `-p tests.support.cpu` lists
# their CPU), run first: the pass hands out whole files (`--dist loadfile`) in this order, so
# the two xdist workers end it on short files, not one alone on a long one while the other
# waits. The file that mostly waits comes first of all: the departure gate's tests send at
# Twilio's pace, one message a second (76 s, 7 s of CPU), and at the end of a pass that wait
# was idle cores; at the start the other processes use them.
LONG_FIRST = (
    "tests/test_departure_gate.py",
    "tests/browser/test_walk_browser.py",
    "tests/test_bench_smoke.py",
    "tests/test_api_schemathesis.py",
    "tests/test_attack_matrix.py",
    "tests/test_api_fuzz.py",
    "tests/test_import_jobs.py",
    "tests/test_sms_rq.py",
    "tests/test_faults.py",
    "tests/browser/",
    "tests/test_import_rows.py",
    "tests/test_sms_sender.py",
    "tests/test_sms_lifecycle.py",
    "tests/test_sms_ratelimit.py",
    "tests/test_route_walker.py",
    "tests/reliability/",
    "tests/test_openapi_typescript.py",
    "tests/test_fuzz_forms.py",
)


def _long_first(item) -> int:
    """The rank of the item's file in LONG_FIRST; the rest after them, in their own order."""
    return next(
        (rank for rank, prefix in enumerate(LONG_FIRST) if item.nodeid.startswith(prefix)), len(LONG_FIRST)
    )


def pytest_collection_modifyitems(items):
    items.sort(key=_long_first)  # a stable sort: a file's tests stay together and in order
