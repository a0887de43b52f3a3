"""The global messages-per-second limit (``SMS_RATE_PER_SECOND``) shared by every sender.

Two rules, both in one storage (memory for the embedded sender, Redis when ``REDIS_URL`` is set,
so every RQ worker draws from one budget):
- pacing: each send reserves the next start time on a shared schedule, one every 1/pace
  seconds, and waits for it; any ``n + 1`` consecutive sends are then at least ``n`` intervals
  apart, whenever the threads asked. (Fixed per-slot windows did not guarantee that: a slot
  taken at its end and the next at its start left two sends a millisecond apart.) The pace is
  ``rate × (1 − SMS_RATE_HEADROOM)`` (default 4 %) because the limit is taken when a request
  *leaves*, while Twilio counts *arrivals*: jitter on the way shortens some gaps, and at exactly
  ``rate`` one late request next to prompt ones puts ``rate + 1`` in some second at Twilio (a
  429). With the headroom, arrivals may bunch by up to ~4 % of a second (40 ms) without that;
- a moving window of ``rate`` per second (the ``limits`` library): the hard cap on departures,
  never exceeded in any one second, whatever the pacing does.
``acquire`` blocks until both allow a send: the limit is only ever waited for.
"""

import threading
import time
from fractions import Fraction
from functools import cache

from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from ..config import BY_NAME

DEFAULT_HEADROOM = BY_NAME["SMS_RATE_HEADROOM"].default
LATE = 0.01  # seconds after its turn a send may still leave: well inside the ~40 ms of headroom

# Reserve the next start time: max(schedule, now), then move the schedule one interval on. Redis'
# own clock, so workers on several hosts share one timeline; returns the seconds to wait.
_RESERVE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local start = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), t)
redis.call('SET', KEYS[1], string.format('%.6f', start + tonumber(ARGV[1])), 'EX', 60)
return string.format('%.6f', start - t)
"""


class _MemorySchedule:
    """The pacing schedule of one process (the embedded sender)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def reserve(self, key: str, interval: float) -> float:
        with self._lock:
            now = time.monotonic()
            start = max(self._next.get(key, 0.0), now)
            self._next[key] = start + interval
            return start - now


class _RedisSchedule:
    """The pacing schedule shared by every worker on one Redis."""

    def __init__(self, url: str):
        from redis import Redis

        self._script = Redis.from_url(url).register_script(_RESERVE)

    def reserve(self, key: str, interval: float) -> float:
        return float(self._script(keys=[key], args=[repr(interval)]))


@cache
def _storage(storage_uri: str) -> tuple[object, MovingWindowRateLimiter]:
    """One schedule and one window per process and URI: the threads of a process share them."""
    schedule = _MemorySchedule() if storage_uri.startswith("memory") else _RedisSchedule(storage_uri)
    return schedule, MovingWindowRateLimiter(storage_from_string(storage_uri))


class RateLimit:
    """Block until one more message fits in the global per-second budget."""

    def __init__(
        self,
        per_second: float,
        storage_uri: str = "memory://",
        key: str = "panel:sms",
        headroom: float = DEFAULT_HEADROOM,
    ):
        if not 0 <= headroom < 1:
            raise ValueError("SMS_RATE_HEADROOM debe estar entre 0 y 1 (p. ej. 0.04)")
        self.rate = per_second
        self.enabled = per_second > 0
        self.interval = 1 / (per_second * (1 - headroom)) if self.enabled else 0.0
        share = Fraction(per_second or 1).limit_denominator(60)
        self.window = RateLimitItemPerSecond(max(share.numerator, 1), max(share.denominator, 1))
        self.schedule, self.limiter = _storage(storage_uri)
        self.key = key

    def acquire(self) -> None:
        """Wait for this send's turn on the schedule, then for room in the window, and take it."""
        if not self.enabled:
            return
        while not self._on_time():
            continue  # woke too late for its turn: take the next free one
        while not self.limiter.hit(self.window, self.key):  # only when the pacing was outrun
            time.sleep(self.interval)

    def _on_time(self) -> bool:
        """Reserve a turn and sleep until it; False when this thread woke too late to use it.

        A process can stall for a while (a garbage collection of a big heap takes ~100 ms, a busy
        CPU deschedules it): every thread of it then wakes late at once, and leaving together they
        would bunch with the sends scheduled after theirs. A late thread takes a new turn instead.
        Lateness is judged here only, never after the window's round trip to Redis: with a Redis
        more than LATE away, every send would be late again and retaken forever."""
        turn = time.monotonic() + self.schedule.reserve(f"{self.key}:next", self.interval)
        time.sleep(max(turn - time.monotonic(), 0))
        return time.monotonic() - turn <= LATE


def from_config(config) -> RateLimit:
    """The limiter configured for this app: Redis when REDIS_URL is set, else memory."""
    storage = config["SMS_RATE_STORAGE_URI"] or config.get("REDIS_URL") or "memory://"
    return RateLimit(
        config["SMS_RATE_PER_SECOND"], storage, config["SMS_RATE_KEY"], config["SMS_RATE_HEADROOM"]
    )
