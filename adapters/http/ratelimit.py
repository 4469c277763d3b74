"""Rate limits (sliding window), shared through Redis by every API process: one per
principal, and one per client address for requests without a valid key (and webhooks).

Without `LEDGER_REDIS_URL` the counters live in the process (the embedded default).
When Redis cannot be reached the limits fail open: the request goes on, a warning is logged
and `billing_rate_limit_unavailable_total` counts it. A circuit breaker stops asking a dead
Redis for a few seconds, so an outage does not add a connect timeout to every request.
"""

from __future__ import annotations

import math
import time

import pybreaker
import structlog
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import SlidingWindowCounterRateLimiter

from adapters.http.problems import EdgeError
from adapters.metrics import RATE_LIMIT_UNAVAILABLE

log = structlog.get_logger("http")
REDIS_TIMEOUT_S = 0.5  # a limiter that waits longer than this is worse than none
BREAKER_FAIL_MAX = 3
BREAKER_RESET_S = 5.0


class RateLimited(EdgeError):
    """Too many requests; slow down and retry after the given number of seconds."""

    code = "rate_limited"
    http_status = 429

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"rate limit exceeded; retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s


def _storage(redis_url: str | None, prefix: str) -> Storage:
    if not redis_url:
        return MemoryStorage()
    return RedisStorage(
        redis_url,
        key_prefix=prefix,
        wrap_exceptions=True,
        socket_timeout=REDIS_TIMEOUT_S,
        socket_connect_timeout=REDIS_TIMEOUT_S,
    )


class RateLimiter:
    def __init__(self, limit: str, redis_url: str | None, namespace: str = "ledger") -> None:
        self._item: RateLimitItem = parse(limit)
        self._storage = _storage(redis_url, f"{namespace}:ratelimit")
        self._limiter = SlidingWindowCounterRateLimiter(self._storage)
        self._breaker = pybreaker.CircuitBreaker(
            fail_max=BREAKER_FAIL_MAX, reset_timeout=BREAKER_RESET_S
        )
        self.shared = bool(redis_url)

    def check(self, key: str) -> None:
        """Raises RateLimited when `key` is over its limit; lets it through (fail open)
        when the counters cannot be reached."""
        try:
            allowed = self._breaker.call(self._limiter.hit, self._item, key)
            if allowed:
                return
            stats = self._breaker.call(self._limiter.get_window_stats, self._item, key)
        except (StorageError, pybreaker.CircuitBreakerError) as error:
            self._fail_open(error)
            return
        raise RateLimited(max(1, math.ceil(stats.reset_time - time.time())))

    def reachable(self) -> bool:
        """Whether the counters' store answers (always, in the process)."""
        return bool(self._storage.check())

    def _fail_open(self, error: Exception) -> None:
        RATE_LIMIT_UNAVAILABLE.inc()
        if isinstance(error, StorageError):
            log.warning("ratelimit.unavailable", error=str(error.storage_error), fail_open=True)
