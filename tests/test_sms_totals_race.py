"""Two senders of one campaign finishing at once never store totals that missed the other's rows.

A sender ends its run by counting the campaign's rows and writing the totals, in one
transaction (``lifecycle.refresh_totals``). If another sender commits an outcome between that
count and that write, the totals go back to the older count and stay there: the campaign says
2 sent where 3 rows are ``enviado`` (CI met it on SQLite, two RQ workers on one campaign). On
PostgreSQL the campaign row is locked before counting; on SQLite, where a read takes no lock, the
campaign row is written first. Either way the second sender waits for the first to commit."""

import threading
import time

from sqlalchemy import event

from panel.extensions import db
from panel.models import CampanaSMS, SMSLog
from panel.sms import lifecycle

from .support.sms import assert_aggregates_match_rows, campaign, rows

LOG = SMSLog.__table__
# How long the first sender, between its count and its write, gives the other one to commit:
# a commit takes milliseconds, so without the lock it lands in this window; with it, it waits.
WINDOW = 3.0


def _other_sender(app, row_id: int, campana_id: int, started: threading.Event, errors: list) -> None:
    """Another sender: one row's outcome and the totals, in its own transaction."""
    try:
        with app.app_context(), db.engine.begin() as conn:
            started.set()
            conn.execute(LOG.update().where(LOG.c.id == row_id).values(estado="enviado"))
            lifecycle.refresh_totals(campana_id, finish=False, conn=conn)
    except Exception as exc:  # reported by the test, not lost in the thread
        errors.append(exc)


def _give_time(other: threading.Thread) -> None:
    """Let the other sender run for WINDOW seconds, or until it is done. Slept in steps, not a
    join with a timeout: under faketime (the suite's night-time check) a join's timeout did not
    expire."""
    deadline = time.monotonic() + WINDOW
    while other.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_sender_committing_between_anothers_count_and_its_write_is_not_overwritten(app, tenants):
    campana_id = campaign(tenants.admin_a, 3)
    first, second, third = (r.id for r in rows(campana_id))
    with db.engine.begin() as conn:  # two outcomes already in: the first sender's own count sees them
        conn.execute(LOG.update().where(LOG.c.id.in_([first, second])).values(estado="enviado"))
    db.session.remove()

    started, errors, others = threading.Event(), [], []

    def between_count_and_write(conn, _cursor, statement, *_args):
        if others or "count(" not in statement.lower():
            return
        other = threading.Thread(target=_other_sender, args=(app, third, campana_id, started, errors))
        others.append(other)
        other.start()
        assert started.wait(WINDOW)  # the other sender is running, inside its transaction
        _give_time(other)

    with db.engine.connect() as conn:
        event.listen(conn, "after_cursor_execute", between_count_and_write)
        with conn.begin():
            counted = lifecycle.refresh_totals(campana_id, finish=False, conn=conn)
    assert others, "the other sender never ran: the count was not seen"
    others[0].join(30)
    assert not others[0].is_alive() and errors == []

    assert counted["enviado"] == 2  # the first sender counted before the other's outcome…
    db.session.expire_all()
    assert db.session.get(CampanaSMS, campana_id).enviados_exitosos == 3  # …and did not undo it
    assert_aggregates_match_rows(campana_id)
    assert sum(r.estado == "enviado" for r in rows(campana_id)) == 3
