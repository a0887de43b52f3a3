"""The one clock: every rule that depends on the time asks here (never the database's now()),
so tests can control it (time-machine) and every process agrees on what "now" is. The panel's
one time zone is declared here too: the law's window, the daily cap and every date people read
are Bogotá's."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BOGOTA = ZoneInfo("America/Bogota")


def now() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


def utcnow() -> datetime:
    """Now as a naive UTC timestamp: how times are stored on SQLite and PostgreSQL alike."""
    return now().replace(tzinfo=None)


def today() -> date:
    """Today in Bogotá."""
    return now().astimezone(BOGOTA).date()
