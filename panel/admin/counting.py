"""How many rows a list has, without counting a huge table on every page.

Flask-Admin runs an exact ``count(*)`` per page; over a million rows that is most of the page's
time. Here the count stops at ``cap + 1`` rows. On PostgreSQL the exact count stops earlier,
at ``ESTIMATE_FROM`` rows (counting even 10,000 filtered rows reads 10,000 heap tuples), and
past it the planner's estimate stands in (shown as "unos N"), so the pager still reaches
every page. SQLite has no estimate: it counts up to the cap and then says "más de N".
"""

import json

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy.orm import Query

from .. import tenancy
from ..extensions import db

ESTIMATE_FROM = 1_000  # PostgreSQL: beyond this many rows, the planner's estimate is shown


def planner_rows(stmt) -> int | None:
    """PostgreSQL's estimate of the rows ``stmt`` returns (None elsewhere). The statement is
    scoped like any ORM statement; only EXPLAIN runs, not the query."""
    if db.engine.dialect.name != "postgresql":
        return None
    scoped = tenancy.scoped(stmt)
    compiled = scoped.compile(dialect=db.engine.dialect)
    conn = db.session.connection()
    raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
    plan = raw if isinstance(raw, list) else json.loads(raw)
    return int(plan[0]["Plan"]["Plan Rows"])


class CappedCount:
    """A count query that stops at ``cap + 1`` rows: a huge table is never counted whole.

    Flask-Admin calls ``.filter()``/``.join()`` on it and then ``.scalar()``."""

    def __init__(self, query: Query, cap: int):
        self._query, self._cap = query, cap

    def __getattr__(self, name):
        attr = getattr(self._query, name)
        if not callable(attr):
            return attr

        def rewrap(*args, **kwargs):
            result = attr(*args, **kwargs)
            return CappedCount(result, self._cap) if isinstance(result, Query) else result

        return rewrap

    def scalar(self) -> int:
        postgres = db.engine.dialect.name == "postgresql"
        cap = min(self._cap, ESTIMATE_FROM) if postgres else self._cap
        rows = self._query.with_entities(sa.literal(1))
        limited = rows.limit(cap + 1).subquery()
        n = db.session.scalar(sa.select(sa.func.count()).select_from(limited))
        if n <= cap:
            return n
        estimate = planner_rows(rows.statement)
        if estimate is None:
            return n
        if has_request_context():
            g.count_estimated = True  # the template says "unos N", not an exact number
        return max(estimate, n)
