"""Fixtures several test files use (registered for the whole suite by tests/conftest.py)."""

import secrets

import pytest
from redis import Redis
from rq import Queue

from panel.extensions import db

from .. import factories
from ..services import REDIS_URL, require_redis


@pytest.fixture
def queue_name():
    """A queue of this test only (never flush Redis: other runs may share it)."""
    require_redis()
    name = f"sms-test-{secrets.token_hex(4)}"
    yield name
    Queue(name, connection=Redis.from_url(REDIS_URL)).delete(delete_jobs=True)


@pytest.fixture
def rls_app():
    """An app on a PostgreSQL database of its own, reached as a role bound by RLS."""
    from ..conftest import make_app, own_postgres_database

    with own_postgres_database("panel_rls", own_role=True) as url:
        app = make_app(url)
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def two_tenants(rls_app):
    admin_a = factories.snapshot(factories.user("a@rls.co", "admin"))
    admin_b = factories.snapshot(factories.user("b@rls.co", "admin"))
    for owner in (admin_a, admin_b):
        for _ in range(3):
            factories.cliente(owner)
    db.session.remove()
    return admin_a, admin_b


@pytest.fixture
def clientes_a(app, tenants):
    a = tenants.admin_a
    return [
        factories.cliente(a, nombre_cliente="Ana", apellido_cliente="Ruiz", telefono="3005550001"),
        factories.cliente(a, nombre_cliente="María", apellido_cliente="León", telefono="3005550002"),
        factories.cliente(a, nombre_cliente="Luis", telefono="3005550003", acepta_sms=False),
        factories.cliente(a, nombre_cliente="Sin", telefono=None),
    ]


@pytest.fixture(scope="module")
def served(database_url):
    """The app in its own process (flask run), on the tests' database; no SMS sender thread."""
    from ..browser.conftest import serve, stop

    server = serve(database_url, {"SMS_EMBEDDED_SENDER": "0", "SMS_SYNC_WAIT": "0.2"})
    yield server
    stop(server)
