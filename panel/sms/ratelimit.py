"""The messages-per-second limit (``SMS_RATE_PER_SECOND``) of one Twilio account, shared by every
sender that sends through it (the platform's account, or a tenant's own: ``from_config``).

Two rules, both in one storage (memory for the embedded sender, Redis when ``REDIS_URL`` is set,
so every RQ worker on every host draws from one budget, on Redis' clock):
- pacing (``acquire``, where a send takes its turn): each send reserves the next start time on a
  shared schedule, one every 1/pace seconds, and waits for it, so the sends are spread evenly.
  The pace is ``rate × (1 − SMS_RATE_HEADROOM)`` (default 4 %);
- the departure log (``departure``, taken by the Twilio HTTP client right before a create's
  first byte is written, see panel/sms/client.py): the hard cap. A send may leave only while
  fewer than ``rate`` departures are in the log's window, and it is logged from the moment it is
  let go until *after* its request was written. A process that stalls between the check and the
  socket therefore keeps its slot open-ended and holds the others back, instead of its late
  request bunching with the ones let go after it. The window is one second stretched by the
  headroom (1/(1 − headroom) s: 1.04 s at 4 %), so any ``rate + 1`` requests written are more
  than a second apart by that margin — the margin for the jitter of the way to Twilio, which
  counts *arrivals* — whatever stalls where. (Before, the margin came from the pacing alone,
  with a thread woken more than 10 ms late taking a new turn: a stall of a whole process after
  that check still bunched requests — one 429 in 10,000 — and under load every late turn given
  up was a slot lost.)
Both only ever wait: the limit never drops a send.
"""

import logging
import secrets
import threading
import time
from contextlib import contextmanager
from fractions import Fraction
from functools import cache

from ..config import BY_NAME

DEFAULT_HEADROOM = BY_NAME["SMS_RATE_HEADROOM"].default
HOLD = 30.0  # a departure not closed by then (its process died mid-write) no longer holds a slot
POLL = 0.005  # how often a send waits for a departure still being written to close

log = logging.getLogger(__name__)

# Reserve the next start time: max(schedule, now), then move the schedule one interval on. Redis'
# own clock, so workers on several hosts share one timeline; returns the seconds to wait.
_RESERVE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local start = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), t)
redis.call('SET', KEYS[1], string.format('%.6f', start + tonumber(ARGV[1])), 'EX', 60)
return string.format('%.6f', start - t)
"""

# The departure log: a sorted set of departures scored by when they closed (an open one: now +
# HOLD). Let one more go, opened, when fewer than ARGV[1] closed within the last ARGV[2] seconds
# (or are still open); else return the seconds until the oldest of them leaves the window.
_ENTER = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.6f', t - window))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], string.format('%.6f', t + tonumber(ARGV[4])), ARGV[3])
  redis.call('EXPIRE', KEYS[1], 120)
  return 'ok'
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
if oldest > t then
  return ARGV[5]
end
return string.format('%.6f', oldest + window - t)
"""

# Close a departure: its request was written, at the latest, now.
_LEAVE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
redis.call('ZADD', KEYS[1], string.format('%.6f', t), ARGV[1])
return 1
"""


class LimitUnavailable(Exception):
    """The limit's storage failed before the request was written: nothing was sent."""


class _MemoryStorage:
    """The schedule and the departure log of one process (the embedded sender)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}
        self._log: dict[str, dict[str, float]] = {}

    def reserve(self, key: str, interval: float) -> float:
        with self._lock:
            now = time.monotonic()
            start = max(self._next.get(key, 0.0), now)
            self._next[key] = start + interval
            return start - now

    def enter(self, key: str, most: int, window: float, token: str) -> float:
        with self._lock:
            now = time.monotonic()
            departures = self._log.setdefault(key, {})
            for old in [k for k, closed in departures.items() if closed <= now - window]:
                del departures[old]
            if len(departures) < most:
                departures[token] = now + HOLD
                return 0.0
            oldest = min(departures.values())
            return POLL if oldest > now else oldest + window - now

    def leave(self, key: str, token: str) -> None:
        with self._lock:
            self._log.setdefault(key, {})[token] = time.monotonic()


class _RedisStorage:
    """The schedule and the departure log shared by every worker on one Redis."""

    def __init__(self, url: str):
        from redis import Redis

        redis = Redis.from_url(url)
        self._reserve = redis.register_script(_RESERVE)
        self._enter = redis.register_script(_ENTER)
        self._leave = redis.register_script(_LEAVE)

    def reserve(self, key: str, interval: float) -> float:
        return float(self._reserve(keys=[key], args=[repr(interval)]))

    def enter(self, key: str, most: int, window: float, token: str) -> float:
        answer = self._enter(keys=[key], args=[most, repr(window), token, repr(HOLD), repr(POLL)])
        return 0.0 if answer == b"ok" else max(float(answer), 1e-4)

    def leave(self, key: str, token: str) -> None:
        self._leave(keys=[key], args=[token])


@cache
def _storage(storage_uri: str):
    """One storage per process and URI: the threads of a process share it."""
    return _MemoryStorage() if storage_uri.startswith("memory") else _RedisStorage(storage_uri)


class RateLimit:
    """Pace sends under the global per-second budget, and never let more than it leave in a second."""

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
        # A fractional rate as a whole number of sends per whole seconds (2.5/s: 5 per 2 s), the
        # seconds stretched by the headroom: the margin any rate + 1 departures keep.
        share = Fraction(per_second or 1).limit_denominator(60)
        self.most = max(share.numerator, 1)
        self.window = max(share.denominator, 1) / (1 - headroom)
        self.storage = _storage(storage_uri)
        self.key = key

    def acquire(self) -> None:
        """Wait for this send's turn on the schedule (where a send takes its turn). A thread woken
        late (a garbage collection, a busy CPU) still goes: the departure log keeps it from
        bunching with the sends after it, and no turn is thrown away."""
        if not self.enabled:
            return
        time.sleep(self.storage.reserve(f"{self.key}:next", self.interval))

    @contextmanager
    def departure(self):
        """Hold one slot of the departure log while the request is written (the hard cap)."""
        if not self.enabled:
            yield
            return
        key, token = f"{self.key}:log", secrets.token_hex(8)
        try:
            while (wait := self.storage.enter(key, self.most, self.window, token)) > 0:
                time.sleep(wait)
        except Exception as exc:
            raise LimitUnavailable(f"límite de envío no disponible: {exc}") from exc
        try:
            yield
        finally:
            self._leave(key, token)

    def _leave(self, key: str, token: str) -> None:
        """Close the departure; a failure here must not fail a request already written (a retry
        would send it twice): the open slot then frees itself after HOLD."""
        try:
            self.storage.leave(key, token)
        except Exception:  # noqa: BLE001 — logged, never raised: see above
            log.warning("no se pudo cerrar la salida %s del límite de envío", token, exc_info=True)


def from_config(config, account_sid: str | None = None) -> RateLimit:
    """The limiter of one Twilio account (SPEC §20: the rate is per account): Redis when
    REDIS_URL is set, else memory. The platform's account (``account_sid`` None) keeps the shared
    key SMS_RATE_KEY; a tenant's own account its own key, ``SMS_RATE_KEY:<Account SID>``, at the
    same SMS_RATE_PER_SECOND."""
    storage = config["SMS_RATE_STORAGE_URI"] or config.get("REDIS_URL") or "memory://"
    key = config["SMS_RATE_KEY"] + (f":{account_sid}" if account_sid else "")
    return RateLimit(config["SMS_RATE_PER_SECOND"], storage, key, config["SMS_RATE_HEADROOM"])
