"""The global SMS rate limit: pacing with headroom on a shared schedule, late turns given up."""

import secrets
import threading
import time

import pytest

from panel.config import load
from panel.sms import ratelimit
from panel.sms.ratelimit import LATE, RateLimit

from .helpers import hold_the_gil
from .services import REDIS_URL, require_redis


def _departures(limit: RateLimit, threads: int, each: int, stall=None) -> list[float]:
    """When ``threads`` threads, each acquiring ``each`` times, were let go (sorted)."""
    times: list[float] = []

    def work() -> None:
        for _ in range(each):
            limit.acquire()
            times.append(time.monotonic())  # list.append is atomic

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    if stall:
        stall()
    for t in pool:
        t.join(60)
    return sorted(times)


def _min_span(times: list[float], n: int) -> float:
    """The shortest time any ``n`` consecutive departures took."""
    return min(b - a for a, b in zip(times, times[n - 1 :], strict=False))


@pytest.fixture(params=["memory", "redis"])
def storage(request) -> str:
    if request.param == "redis":
        require_redis()
        return REDIS_URL
    return "memory://"


def test_any_rate_plus_one_sends_take_longer_than_a_second(storage):
    """Twilio counts arrivals: rate + 1 sends must leave more than a second apart by a margin
    (~40 ms at the default 4 % headroom) that jitter on the way cannot eat."""
    limit = RateLimit(50, storage, f"test:rl:{secrets.token_hex(4)}")
    times = _departures(limit, threads=8, each=15)
    assert len(times) == 120
    assert _min_span(times, 51) >= 1.015
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert 45 <= rate <= 48.0 * 1.005  # paced at 50 × 0.96, never faster


def test_threads_woken_late_by_a_stall_take_new_turns_instead_of_bunching():
    """A stall of the process (here: one C call holding the GIL for ~0.2 s, like a garbage
    collection of a big heap) wakes every waiting thread late at once; leaving together, they
    would put more than ``rate`` sends in the next second."""
    limit = RateLimit(20, "memory://", f"test:rl:{secrets.token_hex(4)}")

    def stalls() -> None:
        for _ in range(4):
            time.sleep(0.35)
            hold_the_gil(0.2)

    times = _departures(limit, threads=6, each=8, stall=stalls)
    assert len(times) == 48
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # Turns are 1/19.2 s apart and a send leaves at most LATE after its turn.
    assert min(gaps) >= 1 / 19.2 - LATE - 0.003, sorted(gaps)[:5]
    assert _min_span(times, 21) >= 1.015


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
