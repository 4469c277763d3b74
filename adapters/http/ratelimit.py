"""Rate limits (sliding window), shared through Redis by every API process: one per
principal, and one per client address for requests without a valid key (and webhooks).

Without `LEDGER_REDIS_URL` the counters live in the process (the embedded default).
When Redis cannot be reached the limits fail open: the request goes on, a warning is logged
and `billing_rate_limit_unavailable_total` counts it. A circuit breaker stops asking a dead
Redis for a few seconds, so an outage does not add a connect timeout to every request.

A refusal names its limit in the request's state (`REFUSED_BY`): the limiter's own name
(`address`, `principal`) or the one its caller gives (`session`), so the HTTP metrics count
the 429 in `billing_rate_limited_requests_total{surface, limit}` (adapters/http/http_metrics.py).
"""

from __future__ import annotations

import math
import time
from collections.abc import MutableMapping
from typing import Any

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
REFUSED_BY = "rate_limited_by"  # the request state's key naming the limit that refused it


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
    def __init__(
        self,
        limit: str,
        redis_url: str | None,
        namespace: str = "ledger",
        name: str = "principal",
    ) -> None:
        """`name`: what this limiter's keys are (`principal`, `address`), the metric's label."""
        self.name = name
        self._item: RateLimitItem = parse(limit)
        self._storage = _storage(redis_url, f"{namespace}:ratelimit")
        self._limiter = SlidingWindowCounterRateLimiter(self._storage)
        self._breaker = pybreaker.CircuitBreaker(
            fail_max=BREAKER_FAIL_MAX, reset_timeout=BREAKER_RESET_S
        )
        self.shared = bool(redis_url)

    def check(self, key: str, scope: MutableMapping[str, Any], limit: str | None = None) -> None:
        """Raises RateLimited when `key` is over its limit, naming the limit (`limit`, else
        this limiter's name) in the state of the request whose ASGI `scope` is given; lets
        it through (fail open) when the counters cannot be reached."""
        try:
            allowed = self._breaker.call(self._limiter.hit, self._item, key)
            if allowed:
                return
            stats = self._breaker.call(self._limiter.get_window_stats, self._item, key)
        except (StorageError, pybreaker.CircuitBreakerError) as error:
            self._fail_open(error)
            return
        scope.setdefault("state", {})[REFUSED_BY] = limit or self.name
        raise RateLimited(max(1, math.ceil(stats.reset_time - time.time())))

    def reachable(self) -> bool:
        """Whether the counters' store answers (always, in the process)."""
        return bool(self._storage.check())

    def _fail_open(self, error: Exception) -> None:
        RATE_LIMIT_UNAVAILABLE.inc()
        if isinstance(error, StorageError):
            log.warning("ratelimit.unavailable", error=str(error.storage_error), fail_open=True)
