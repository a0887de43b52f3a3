"""How many rows a list has, without counting a huge table on every page.

Flask-Admin runs an exact ``count(*)`` per page; over a million rows that is most of the page's
time. Here the count stops at ``cap + 1`` rows. On PostgreSQL the exact count stops earlier,
at ``ESTIMATE_FROM`` rows (counting even 10,000 filtered rows reads 10,000 heap tuples), and
past it the planner's estimate stands in (shown as "unos N"), so the pager still reaches
every page. SQLite has no estimate: it counts up to the cap and then says "más de N".
In a list page the capped count is not a statement of its own: it is a column of the rows'
statement (``CappedCount.folded``, used by ``lista_rapida.FastListMixin.get_list``).

A count that is not exact ("unos N", "más de N") is kept for ``ESTIMATE_TTL`` per statement
(the tenant is in it) and served without a round trip; any write to a table it reads drops
it in this process (see docs/decisions/lista-cerca-del-suelo.md). Exact counts are never
cached: the last rows of a small list must be counted as they are.
"""

import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Query

from ... import clock, tenancy
from ...extensions import db

ESTIMATE_FROM = 1_000  # PostgreSQL: beyond this many rows, the planner's estimate is shown
ESTIMATE_TTL = timedelta(seconds=60)  # how old a cached "unos N" / "más de N" may be
CACHE_SIZE = 512  # statements kept (tenants × filter combinations in use); the oldest go first
WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|COPY)\s+"?(\w+)', re.I)


def planner_rows(stmt) -> int | None:
    """PostgreSQL's estimate of the rows ``stmt`` returns (None elsewhere). The statement is
    scoped like any ORM statement; only EXPLAIN runs, not the query."""
    if db.engine.dialect.name != "postgresql":
        return None
    scoped = tenancy.scoped(stmt)
    # render_postcompile: an IN list (the Departamento filter's municipios) as its own parameters
    compiled = scoped.compile(dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True})
    conn = db.session.connection()
    raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
    plan = raw if isinstance(raw, list) else json.loads(raw)
    return int(plan[0]["Plan"]["Plan Rows"])


@dataclass(frozen=True)
class Inexact:
    """A count that was not exact: the number shown, whether it is the planner's estimate."""

    rows: int
    estimated: bool
    at: datetime
    tables: frozenset[str]


class InexactCounts:
    """The inexact counts of this process, by statement and scope, bounded in age and number."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple, Inexact] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Inexact | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and clock.now() - entry.at >= ESTIMATE_TTL:
                del self._entries[key]
                entry = None
            return entry

    def put(self, key: tuple, entry: Inexact) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > CACHE_SIZE:
                self._entries.popitem(last=False)

    def forget(self, table: str) -> None:
        """Drop every count that reads ``table`` (a write to it may have changed them)."""
        with self._lock:
            for key in [k for k, e in self._entries.items() if table in e.tables]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


INEXACT = InexactCounts()


@event.listens_for(Engine, "before_cursor_execute")
def _forget_on_write(conn, cursor, statement, parameters, context, executemany) -> None:
    """Any INSERT, UPDATE, DELETE, TRUNCATE or COPY into a table drops the counts that read it."""
    found = WRITE.match(statement)
    if found:
        INEXACT.forget(found.group(1).lower())


def cache_key(stmt, limit: int) -> tuple:
    """The statement (SQLAlchemy's own cache key: its structure and its parameters' values,
    ~40× cheaper than compiling it), the scope it runs in, the database, and the most rows
    counted exactly."""
    key = stmt._generate_cache_key()
    values = tuple(repr(b.effective_value) for b in key.bindparams)
    return (str(db.engine.url), tenancy.current_scope(), key.key, values, limit)


def read_tables(stmt) -> frozenset[str]:
    return frozenset(t.name for t in sa.sql.util.find_tables(stmt, include_joins=True, include_crud=True))


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

    @property
    def exact_limit(self) -> int:
        """The most rows counted exactly on this engine."""
        postgres = db.engine.dialect.name == "postgresql"
        return min(self._cap, ESTIMATE_FROM) if postgres else self._cap

    def scalar(self) -> int | None:
        """The count; inside TenantModelView.get_list, deferred (None now) until the rows say
        whether it is needed."""
        later = g.get("counts_later") if has_request_context() else None
        if later is not None:
            later.append(self)
            g.counts_later = None  # the deferred call runs this method again, for real
            return None
        cached = self.cached()
        if cached is not None:
            return self.shown(cached)
        return self.settle(db.session.scalar(self._counting()))

    def cached(self) -> Inexact | None:
        """The cached inexact count of this statement in this scope ("unos N", "más de N"),
        None when there is none (then the list is counted). Nothing is shown yet: a short page
        may still prove the list small (``shown`` marks the estimate for the template)."""
        return INEXACT.get(self._key())

    def shown(self, entry: Inexact) -> int:
        return self._shown(entry.rows, entry.estimated)

    def folded(self) -> sa.ScalarSelect:
        """The capped count as a scalar subquery, to add as a column to the rows' statement:
        ``(SELECT count(*) FROM (SELECT 1 … LIMIT cap + 1))``. Uncorrelated, so the database
        runs it once per statement (PostgreSQL: an InitPlan); the tenancy's criteria reach it
        as they reach any ORM subquery."""
        return self._counting().correlate(None).scalar_subquery()

    def settle(self, n: int) -> int:
        """What the list shows for a capped count of ``n``: ``n`` itself when it is exact, else
        the planner's estimate (PostgreSQL) or "más de N" (SQLite), cached."""
        cap = self.exact_limit
        if n <= cap:
            return n
        rows = self._rows().statement
        estimate = planner_rows(rows)
        shown = n if estimate is None else max(estimate, n)
        INEXACT.put(self._key(), Inexact(shown, estimate is not None, clock.now(), read_tables(rows)))
        return self._shown(shown, estimate is not None)

    def _rows(self) -> Query:
        return self._query.with_entities(sa.literal(1))

    def _counting(self) -> sa.Select:
        """``SELECT count(*) FROM (SELECT 1 … LIMIT cap + 1)``: never more than cap + 1 rows read."""
        cap = sa.literal(self.exact_limit + 1, literal_execute=True)  # a number in the SQL: one plan kept
        return sa.select(sa.func.count()).select_from(self._rows().limit(cap).subquery())

    def _key(self) -> tuple:
        return cache_key(self._rows().statement, self.exact_limit)

    @staticmethod
    def _shown(rows: int, estimated: bool) -> int:
        if estimated and has_request_context():
            g.count_estimated = True  # the template says "unos N", not an exact number
        return rows
