"""Counting the SQL statements a request sends, as bench/b1_list.py counts them (issue #19's
"3 statements per list page"), and telling the count statements among them."""

from contextlib import contextmanager

import sqlalchemy as sa

from panel.extensions import db


@contextmanager
def statements(monkeypatch):
    """Every statement the request sends: through SQLAlchemy (as bench/b1_list.py counts them)
    and, on PostgreSQL, every execute on a psycopg cursor (the tenancy's set_config goes
    through a plain cursor, unseen by SQLAlchemy's events)."""
    seen: list[str] = []
    raw: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    if db.engine.dialect.name == "postgresql":
        import psycopg

        execute = psycopg.Cursor.execute

        def spy(self, query, *args, **kwargs):
            raw.append(str(query))
            return execute(self, query, *args, **kwargs)

        monkeypatch.setattr(psycopg.Cursor, "execute", spy)
    sa.event.listen(db.engine, "before_cursor_execute", listen)
    try:
        yield seen, raw
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listen)


def counts_in(sql: list[str]) -> int:
    """Statements that count or estimate at all: a count of their own, or one folded into the
    rows' statement."""
    return sum(1 for s in sql if "count(*)" in s.lower() or s.startswith("EXPLAIN"))


def counts_alone(sql: list[str]) -> int:
    """Statements that only count (``SELECT count(*) FROM (… LIMIT cap + 1)``) or estimate."""
    return sum(1 for s in sql if s.lstrip().lower().startswith("select count(") or s.startswith("EXPLAIN"))


def explains_in(sql: list[str]) -> int:
    return sum(1 for s in sql if s.startswith("EXPLAIN"))
