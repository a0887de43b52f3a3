"""Two senders of one campaign on PostgreSQL must not deadlock on the campaign's row.

Every write of an ``sms_log`` row checks its foreign key to ``campana_sms`` with a ``FOR KEY
SHARE`` lock on the campaign; ``refresh_totals`` then locks the same row to count. Taken
``FOR UPDATE``, that lock waits for every other sender's key-share lock, and two senders each
holding one and asking for it deadlock (B4 saw it with two RQ workers: a run "interrumpido" and
its rows left "enviando"). ``FOR NO KEY UPDATE`` still serialises the counts and does not wait for
key-share locks. Runs against the local PostgreSQL in the SQLite pass too (as tests/test_rls.py)."""

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.sms import lifecycle

from . import factories
from .conftest import make_app, own_postgres_database


@pytest.fixture
def pg_app():
    with own_postgres_database("panel_totals") as url:
        app = make_app(url)
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()


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
