"""Failed-login throttling, in a store every process shares.

Two counters per failed attempt: one per (account, address) — 5 in 5 minutes, so a guesser
is stopped without locking the owner out from another address — and one per address — 100 in
5 minutes, so one address cannot try many accounts. With ``REDIS_URL`` the counters live in
Redis through the ``limits`` library; otherwise in the ``intento_login`` table, counted by one
atomic upsert on SQLite and PostgreSQL alike, with times from ``panel/clock.py``.
"""

import hashlib
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, request
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy.dialects import postgresql, sqlite

from .. import clock
from ..extensions import db
from ..models import IntentoLogin

TABLE = IntentoLogin.__table__


class DatabaseStore:
    """Fixed windows in the intento_login table (no Redis)."""

    def blocked(self, item: RateLimitItem, key: str) -> bool:
        """The key has used up its failures in the current window."""
        stmt = sa.select(TABLE.c.cuenta).where(TABLE.c.clave == key, TABLE.c.expira > clock.utcnow())
        with db.engine.connect() as conn:
            return (conn.scalar(stmt) or 0) >= item.amount

    def fail(self, item: RateLimitItem, key: str) -> None:
        """Count one failure: a new window if the last one is over, else one more in it."""
        now = clock.utcnow()
        with db.engine.begin() as conn:
            conn.execute(_upsert(conn.dialect.name, key, now, now + timedelta(seconds=item.get_expiry())))
            conn.execute(TABLE.delete().where(TABLE.c.expira <= now))  # windows that are over


def _upsert(dialect: str, key: str, now, expires):
    """INSERT … ON CONFLICT DO UPDATE (both engines): atomic, whatever the number of processes."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(TABLE).values(clave=key, inicio=now, expira=expires, cuenta=1)
    over = TABLE.c.expira <= now  # SET sees the stored row: its window may have ended
    return stmt.on_conflict_do_update(
        index_elements=[TABLE.c.clave],
        set_={
            "cuenta": sa.case((over, 1), else_=TABLE.c.cuenta + 1),
            "inicio": sa.case((over, stmt.excluded.inicio), else_=TABLE.c.inicio),
            "expira": sa.case((over, stmt.excluded.expira), else_=TABLE.c.expira),
        },
    )


class RedisStore:
    """Fixed windows in Redis, through the limits library."""

    def __init__(self, uri: str, prefix: str):
        self.limiter = FixedWindowRateLimiter(storage_from_string(uri))
        self.prefix = prefix

    def blocked(self, item: RateLimitItem, key: str) -> bool:
        return not self.limiter.test(item, self.prefix, key)

    def fail(self, item: RateLimitItem, key: str) -> None:
        self.limiter.hit(item, self.prefix, key)


def store():
    """This app's store: Redis when REDIS_URL is set, else the database (one per app)."""
    app = current_app
    if "login_throttle" not in app.extensions:
        uri = app.config.get("REDIS_URL")
        prefix = app.config["LOGIN_THROTTLE_PREFIX"]
        app.extensions["login_throttle"] = RedisStore(uri, prefix) if uri else DatabaseStore()
    return app.extensions["login_throttle"]


def _digest(text: str) -> str:
    """Keys of fixed length that do not store the e-mail typed."""
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def counters(email: str) -> list[tuple[RateLimitItem, str]]:
    """The (limit, key) pairs a login attempt from this request counts against."""
    address = request.remote_addr or "-"
    config = current_app.config
    account = _digest((email or "").strip().lower() + "|" + address)
    return [
        (parse(config["LOGIN_LIMIT_PER_ACCOUNT"]), "cuenta:" + account),
        (parse(config["LOGIN_LIMIT_PER_ADDRESS"]), "ip:" + address[:60]),
    ]


def blocked(email: str) -> bool:
    """This account from this address, or this address, has failed too often."""
    return any(store().blocked(item, key) for item, key in counters(email))


def failed(email: str) -> None:
    """Count a failed attempt against both counters."""
    for item, key in counters(email):
        store().fail(item, key)
