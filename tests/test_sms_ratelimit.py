"""The global SMS rate limit: pacing on a shared schedule, and the departure log that caps what
leaves in any second (memory for the embedded sender, Redis for the workers)."""

import secrets
import threading
import time

import pytest

from panel.config import load
from panel.sms import ratelimit
from panel.sms.ratelimit import RateLimit
from panel.testing.fake_server import busiest

from .helpers import hold_the_gil
from .services import REDIS_URL, require_redis


@pytest.fixture(params=["memory", "redis"])
def storage(request) -> tuple[str, object]:
    """(storage URI, the clock its departure log keeps: Redis' TIME is this host's wall clock)."""
    if request.param == "redis":
        require_redis()
        return REDIS_URL, time.time
    return "memory://", time.monotonic


def _limit(per_second: float, uri: str) -> RateLimit:
    return RateLimit(per_second, uri, f"test:rl:{secrets.token_hex(4)}")


def _departures(limit: RateLimit, clock, threads: int, each: int, pace=True, stall=None, late=0.0) -> list:
    """When ``threads`` threads, each sending ``each`` times, wrote their requests (sorted): an
    instant inside ``departure()``, where the HTTP client writes. ``late``: the first send of
    thread 0 stalls that long between the check and the write."""
    times: list[float] = []

    def work(i: int) -> None:
        for n in range(each):
            if pace:
                limit.acquire()
            with limit.departure():
                if late and i == n == 0:
                    time.sleep(late)  # a process stalled after the check, before the socket
                times.append(clock())  # list.append is atomic

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    if stall:
        stall()
    for t in pool:
        t.join(120)
    return sorted(times)


def test_a_burst_never_puts_more_than_the_rate_in_any_second_and_its_margin(storage):
    """No pacing at all: 8 threads racing; the log alone lets at most 50 leave in any 1.04 s
    (one second and the 4 % headroom: the margin for the jitter on the way to Twilio)."""
    uri, clock = storage
    limit = _limit(50, uri)
    times = _departures(limit, clock, threads=8, each=15, pace=False)
    assert len(times) == 120
    assert limit.window == pytest.approx(1 / 0.96)
    assert busiest(times, limit.window) <= 50


def test_a_send_stalled_between_the_check_and_the_socket_keeps_its_slot(storage):
    """The write that comes 1.2 s after its check still counts in the second it really left in:
    the others wait for it instead of bunching with it (5/s: at most 5 in any second)."""
    uri, clock = storage
    times = _departures(_limit(5, uri), clock, threads=8, each=3, pace=False, late=1.2)
    assert len(times) == 24
    assert busiest(times) <= 5


def test_threads_woken_late_by_a_stall_never_bunch_past_the_rate(storage):
    """A stall of the process (one C call holding the GIL for ~0.2 s, like a garbage collection
    of a big heap) wakes every waiting thread late at once: still at most 20 in any second."""
    uri, clock = storage
    limit = _limit(20, uri)

    def stalls() -> None:
        for _ in range(4):
            time.sleep(0.35)
            hold_the_gil(0.2)

    times = _departures(limit, clock, threads=6, each=8, stall=stalls)
    assert len(times) == 48
    assert busiest(times) <= 20


def test_pacing_spreads_the_turns_one_interval_apart(storage):
    """n sends paced at 50 × 0.96/s cannot finish sooner than n − 1 intervals after the first
    turn was asked for, however the threads are scheduled (a lower bound: load only adds)."""
    uri, _ = storage
    limit = _limit(50, uri)
    started = time.monotonic()
    threads = [threading.Thread(target=lambda: [limit.acquire() for _ in range(10)]) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert time.monotonic() - started >= 59 * limit.interval


def test_a_disabled_limit_neither_paces_nor_logs():
    limit = RateLimit(0)
    limit.acquire()
    with limit.departure():
        pass
    assert limit.enabled is False


def test_a_fractional_rate_is_a_whole_count_over_whole_seconds():
    limit = RateLimit(2.5, headroom=0)
    assert (limit.most, limit.window) == (5, 2.0)


def test_headroom_and_key_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("SMS_RATE_HEADROOM", "0.05")
    monkeypatch.setenv("SMS_RATE_KEY", "otra:clave")
    limit = ratelimit.from_config(load({"SMS_RATE_PER_SECOND": 10}))
    assert (limit.key, round(limit.interval, 6)) == ("otra:clave", round(1 / 9.5, 6))


def test_headroom_defaults_to_four_percent_and_is_validated():
    assert RateLimit(10).interval == pytest.approx(1 / 9.6)
    with pytest.raises(ValueError, match="SMS_RATE_HEADROOM"):
        RateLimit(10, headroom=1.2)
    assert RateLimit(0).enabled is False


def test_a_storage_that_fails_before_the_write_says_nothing_was_sent():
    limit = RateLimit(10, "redis://127.0.0.1:1/0", f"test:rl:{secrets.token_hex(4)}")
    with pytest.raises(ratelimit.LimitUnavailable), limit.departure():
        pytest.fail("the request must not be written")
