"""A blocking rate limit for batch jobs (the PayPal token migration's calls to Braintree):
`limits`' moving window in the process. One job, one process: nothing to share through
Redis, and the window is exact (a burst never exceeds the limit in any second)."""

from __future__ import annotations

import time
from collections.abc import Callable

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

KEY = "batch"


class Throttle:
    """`wait()` returns once one more unit of work may start within the rate, e.g.
    "5/second" or "100/minute" (limits' notation)."""

    def __init__(self, rate: str, sleep: Callable[[float], None] = time.sleep) -> None:
        self.item: RateLimitItem = parse(rate)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._sleep = sleep
        self.granted = 0
        self.waits = 0  # times a caller had to wait (counted for tests and the report)

    def wait(self) -> None:
        while not self._limiter.hit(self.item, KEY):
            self.waits += 1
            stats = self._limiter.get_window_stats(self.item, KEY)
            self._sleep(max(0.01, stats.reset_time - time.time()))
        self.granted += 1
