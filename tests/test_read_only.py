"""A request that only read commits, so psycopg keeps the statements it prepared on the server
(panel/read_only.py); one that wrote, or holds unflushed changes, is rolled back as before.
PostgreSQL only: in the SQLite pass these run against a database of their own on the local
PostgreSQL (as tests/test_sms_totals_lock.py), so they are never skipped."""

import contextlib

import pytest
import sqlalchemy as sa

from panel import read_only
from panel.extensions import db
from panel.models import Ciudad, Pais

from .conftest import make_app, own_postgres_database

READ = sa.select(Ciudad.nombre).where(Ciudad.id == sa.bindparam("id"))
PREPARED = sa.text("SELECT statement FROM pg_prepared_statements")


@pytest.fixture
def pg_app():
    with own_postgres_database("panel_lecturas") as url:
        app = make_app(url)
        yield app
        with app.app_context():
            db.engine.dispose()


@contextlib.contextmanager
def request(app):
    """A request of its own, as in production: its own app context, so its own session, whose
    end (Flask's teardown) commits or rolls back."""
    with app.app_context(), app.test_request_context():
        yield


def test_statements_stay_prepared_across_requests_that_only_read(pg_app):
    for _ in range(7):  # psycopg prepares a statement on its sixth run on a connection
        with request(pg_app):
            assert db.session.execute(READ, {"id": 1}).scalar() == "Bogotá D.C."
    with request(pg_app):
        prepared = db.session.execute(PREPARED).scalars().all()
    assert any("FROM ciudad" in s for s in prepared), prepared


def test_a_request_that_wrote_is_rolled_back(pg_app):
    with request(pg_app):  # the positive path first: this request only read, and committed
        db.session.execute(READ, {"id": 1})
        assert read_only.commit_if_only_read() is True
    with request(pg_app):
        db.session.execute(sa.insert(Pais).values(nombre="Escrito sin confirmar", codigo_iso="XE"))
        assert read_only.commit_if_only_read() is False
    with request(pg_app):
        db.session.add(Pais(nombre="Añadido sin enviar", codigo_iso="XA"))  # pending, never flushed
        with db.session.no_autoflush:  # a read that leaves it pending: no INSERT was sent
            db.session.execute(READ, {"id": 1})
    with request(pg_app):
        nombres = set(db.session.scalars(sa.select(Pais.nombre)))
    assert "Colombia" in nombres and not nombres & {"Escrito sin confirmar", "Añadido sin enviar"}


def test_a_transaction_that_failed_ends_without_an_error(pg_app):
    with request(pg_app):
        db.session.execute(READ, {"id": 1})
        with pytest.raises(sa.exc.DataError):
            db.session.execute(sa.text("SELECT 1 / 0"))  # PostgreSQL aborts the transaction
    # Its end (a COMMIT that PostgreSQL answers with ROLLBACK) raised nothing; the next reads.
    with request(pg_app):
        assert db.session.execute(READ, {"id": 1}).scalar() == "Bogotá D.C."
