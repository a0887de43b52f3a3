"""A request that only read ends its transaction with COMMIT, not ROLLBACK (PostgreSQL).

psycopg prepares a statement on the server once a connection has run it five times, and from
then on PostgreSQL neither parses nor plans it again (~1 ms of the Clientes list's rows, with a
departamento's municipios in them). But psycopg forgets every prepared statement on ROLLBACK,
and Flask-SQLAlchemy ends each request by closing its session, which rolls back: no statement
of a page ever reached five. For a transaction that wrote nothing, COMMIT and ROLLBACK do the
same (its row locks, advisory locks and transaction-local settings end either way), so such a
request commits. Any statement that is not a SELECT (an INSERT, a SAVEPOINT, a COPY, a WITH)
marks its transaction as a writer; a writer, a session with unflushed changes or a request that
failed is rolled back as before. SQLite is left as it was: its driver keeps nothing to lose."""

import re

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

READ = re.compile(r"\s*SELECT\b", re.IGNORECASE)
WROTE = "panel_transaction_wrote"


@event.listens_for(Engine, "before_cursor_execute")
def _note_writes(conn, cursor, statement, parameters, context, executemany) -> None:
    if not READ.match(statement):
        conn.info[WROTE] = True


@event.listens_for(Engine, "begin")
@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _forget_writes(conn) -> None:
    conn.info.pop(WROTE, None)


def init_app(app: Flask) -> None:
    @app.teardown_request
    def _end_reads(error) -> None:
        if error is None:
            commit_if_only_read()


def commit_if_only_read() -> bool:
    """Commit the request's transaction if it is PostgreSQL's and only read; True if it did."""
    if not db.session.registry.has():
        return False
    session = db.session()
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return False
    connection = session.connection()
    if connection.dialect.name != "postgresql" or connection.info.get(WROTE):
        return False
    try:
        session.commit()
    except Exception:  # a transaction that cannot commit ends the way it would have: rolled back
        session.rollback()
        return False
    return True
