"""The one clock: every rule that depends on the time asks here (never the database's now()),
so tests can control it (time-machine) and every process agrees on what "now" is."""

from datetime import UTC, datetime


def now() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


def utcnow() -> datetime:
    """Now as a naive UTC timestamp: how times are stored on SQLite and PostgreSQL alike."""
    return now().replace(tzinfo=None)
