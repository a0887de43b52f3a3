"""Two senders of one campaign on PostgreSQL must not deadlock on the campaign's row.

Every write of an ``sms_log`` row checks its foreign key to ``campana_sms`` with a ``FOR KEY
SHARE`` lock on the campaign; ``refresh_totals`` then locks the same row to count. Taken
``FOR UPDATE``, that lock waits for every other sender's key-share lock, and two senders each
holding one and asking for it deadlock (B4 saw it with two RQ workers: a run "interrumpido" and
its rows left "enviando"). ``FOR NO KEY UPDATE`` still serialises the counts and does not wait for
key-share locks. Runs against the local PostgreSQL in the SQLite pass too (as tests/test_rls.py)."""

import secrets

import psycopg
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from panel.extensions import db
from panel.sms import lifecycle

from . import factories
from .conftest import make_app
from .services import PG_ADMIN_URL, require_postgres


@pytest.fixture
def pg_app():
    require_postgres()
    name = f"panel_totals_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = sa.make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    app = make_app(url.render_as_string(hide_password=False))
    try:
        with app.app_context():
            upgrade()
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_counting_the_totals_does_not_wait_for_a_sender_writing_its_rows(pg_app):
    admin = factories.user("admin@totals.co", "admin")
    campana = factories.sent_campaign(admin, factories.cliente(admin), "c", "Hola", "+573001234567")
    campana_id = campana.id
    db.session.remove()
    with db.engine.connect() as writer, db.engine.connect() as counter:
        writer.begin()  # another sender, mid-transaction, has written a row of this campaign
        writer.execute(sa.text("SELECT id FROM campana_sms WHERE id = :id FOR KEY SHARE"), {"id": campana_id})
        counter.begin()
        counter.execute(sa.text("SET LOCAL lock_timeout = '5s'"))  # FOR UPDATE would wait, then fail
        counts = lifecycle.refresh_totals(campana_id, finish=False, conn=counter)
        counter.commit()
        writer.rollback()
    assert counts["enviado"] == 1 and counts["total"] == 1
