"""The global messages-per-second limit (``SMS_RATE_PER_SECOND``) shared by every sender.

Two rules from the ``limits`` library, both in one storage (memory for the embedded sender,
Redis when ``REDIS_URL`` is set, so every RQ worker draws from one budget):
- pacing: one message per slot of 1/rate seconds (a fixed window keyed by the slot number),
  so 20 messages at 10/s are spread over ~2 s instead of two bursts of 10;
- a moving window of ``rate`` per second: the hard cap, never exceeded in any one second.
``acquire`` blocks until both allow a send: the limit is only ever waited for.
"""

import math
import threading
import time
from fractions import Fraction
from functools import cache

from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter


@cache
def _limiters(storage_uri: str) -> tuple[FixedWindowRateLimiter, MovingWindowRateLimiter]:
    """One storage per process and URI: the threads of a process share the memory."""
    storage = storage_from_string(storage_uri)
    return FixedWindowRateLimiter(storage), MovingWindowRateLimiter(storage)


class RateLimit:
    """Block until one more message fits in the global per-second budget."""

    def __init__(self, per_second: float, storage_uri: str = "memory://", key: str = "panel:sms"):
        self.rate = per_second
        self.enabled = per_second > 0
        share = Fraction(per_second or 1).limit_denominator(60)
        self.window = RateLimitItemPerSecond(max(share.numerator, 1), max(share.denominator, 1))
        # A slot's key must outlive the slot, or a second sender could take it again.
        self.slot_item = RateLimitItemPerSecond(1, math.ceil(1 / per_second) + 1 if self.enabled else 1)
        self.pacer, self.limiter = _limiters(storage_uri)
        self.key = key
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Wait for a free slot and room in the window, then take them."""
        if not self.enabled:
            return
        while True:
            now = time.time()
            slot = math.floor(now * self.rate)
            with self._lock:  # threads of one worker queue up instead of spinning together
                if self.pacer.hit(self.slot_item, self.key, "slot", str(slot)) and self.limiter.hit(
                    self.window, self.key
                ):
                    return
            time.sleep(max((slot + 1) / self.rate - time.time(), 0.001))


def from_config(config) -> RateLimit:
    """The limiter configured for this app: Redis when REDIS_URL is set, else memory."""
    storage = config.get("SMS_RATE_STORAGE_URI") or config.get("REDIS_URL") or "memory://"
    return RateLimit(
        float(config.get("SMS_RATE_PER_SECOND") or 0),
        storage,
        config.get("SMS_RATE_KEY", "panel:sms"),
    )
