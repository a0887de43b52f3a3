"""Time under the test's control (SPEC §15 "One clock"): the contact window of Ley 2300 decides
when a commercial SMS may leave, so a test that sends one must not depend on the hour CI runs at.

``ventana_abierta`` moves this process's clock (time-machine; the clock keeps ticking) to the
next weekday morning that is not a Colombian holiday — always ahead of the real time, so the
cookies a browser receives never look expired to it.
"""

import time
from datetime import UTC, datetime, timedelta
from datetime import time as hora

import pytest
import time_machine

from panel.formatting import BOGOTA
from panel.sms.ventana import festivo

MORNING = hora(9, 0)  # ten hours before the weekday close: no test lasts that long


def real_time() -> float:
    """The real ``time.time()``, also while this process travels (a subprocess lives in it)."""
    if time_machine.escape_hatch.is_travelling():
        return time_machine.escape_hatch.time.time()
    return time.time()


def next_open_morning(after: datetime | None = None) -> datetime:
    """The first weekday (Monday–Friday, not a festivo) 09:00 Bogotá strictly after ``after``."""
    now = (after or datetime.now(UTC)).astimezone(BOGOTA)
    day = now.date()
    while True:
        moment = datetime.combine(day, MORNING, BOGOTA)
        if moment > now and day.weekday() < 5 and not festivo(day):
            return moment
        day += timedelta(days=1)


def at(text: str, tick: bool = False):
    """Travel to a Bogotá wall-clock time, e.g. ``at("2026-12-06 10:00")``."""
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=BOGOTA), tick=tick)


@pytest.fixture
def ventana_abierta():
    """This test runs inside the contact window (on a weekday morning, clock ticking)."""
    with time_machine.travel(next_open_morning(), tick=True) as traveller:
        yield traveller
