"""Per-principal rate limits (sliding window), shared through Redis by every API process.

Without `LEDGER_REDIS_URL` the counters live in the process (the embedded default).
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from ledger.errors import DomainError


class RateLimited(DomainError):
    """Too many requests; slow down and retry after the given number of seconds."""

    code = "rate_limited"
    http_status = 429

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"rate limit exceeded; retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s


class RateLimiter:
    def __init__(self, limit: str, redis_url: str | None, namespace: str = "ledger") -> None:
        self._item: RateLimitItem = parse(limit)
        storage = (
            storage_from_string(redis_url, key_prefix=f"{namespace}:ratelimit")
            if redis_url
            else storage_from_string("memory://")
        )
        self._limiter = SlidingWindowCounterRateLimiter(storage)

    def check(self, principal_id: str) -> None:
        if self._limiter.hit(self._item, principal_id):
            return
        stats = self._limiter.get_window_stats(self._item, principal_id)
        raise RateLimited(max(1, math.ceil(stats.reset_time - time.time())))
