"""Counting what one ledger operation asks of the outside world: Stripe HTTP calls (and the
time spent inside the Stripe SDK's HTTP client), Braintree gateway requests, Turnstile
checks, Redis commands and events appended to the store."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

import psycopg
import redis
import stripe

from commands.checkout_ports import HumanCheck, HumanCheckResult

# Stripe object ids in a path (cus_..., pm_..., pi_...), folded so calls group by route.
_IDS = re.compile(r"/(?:cus|pm|pi|seti|ch|re|in|card|src|sub|evt)_[A-Za-z0-9]+")


def route(method: str, url: str) -> str:
    path = url.split("://", 1)[-1].partition("/")[2].split("?")[0]
    return f"{method.upper()} /{_IDS.sub('/{id}', '/' + path)[1:]}"


class CountingHttpClient(stripe.RequestsClient):
    """The SDK's own HTTP client (make_client builds one), counting each request by route
    and adding up the wall time spent inside it: connection, localstripe's work, the
    response. The SDK's own encoding and decoding happen outside and count as ledger time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.by_route: Counter[str] = Counter()
        self.seconds_by_route: dict[str, float] = {}
        self.seconds = 0.0

    @property
    def calls(self) -> int:
        return sum(self.by_route.values())

    def request(  # type: ignore[override]  # RequestsClient narrows the signature
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None
    ) -> Any:
        began = time.perf_counter()
        try:
            return super().request(method, url, headers, post_data)
        finally:
            spent, name = time.perf_counter() - began, route(method, url)
            self.seconds += spent
            self.by_route[name] += 1
            self.seconds_by_route[name] = self.seconds_by_route.get(name, 0.0) + spent


class TimedCall:
    """A callable, adding up the wall time spent in it (here StripeCharges.find_charge,
    which with lookup="list" pages through every PaymentIntent: see docs)."""

    def __init__(self, inner: Callable[..., Any]) -> None:
        self._inner = inner
        self.seconds = 0.0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return self._inner(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - began


class TimedHumanCheck:
    """The container's Turnstile verifier, adding up the wall time spent in `verify`."""

    def __init__(self, inner: HumanCheck) -> None:
        self._inner = inner
        self.site_key = inner.site_key
        self.seconds = 0.0

    def verify(self, token: str, remote_ip: str | None, idempotency_key: str) -> HumanCheckResult:
        began = time.perf_counter()
        try:
            return self._inner.verify(token, remote_ip, idempotency_key)
        finally:
            self.seconds += time.perf_counter() - began

    def close(self) -> None:
        self._inner.close()


@contextmanager
def counting_stripe_clients() -> Iterator[list[CountingHttpClient]]:
    """While open, every `stripe.RequestsClient` built (by adapters.stripe.make_client,
    during `build()`) is a CountingHttpClient; the list holds the ones built."""
    made: list[CountingHttpClient] = []

    def factory(*args: Any, **kwargs: Any) -> CountingHttpClient:
        made.append(CountingHttpClient(*args, **kwargs))
        return made[-1]

    with mock.patch.object(stripe, "RequestsClient", factory):
        yield made


@dataclass(frozen=True)
class Tally:
    """Running totals at one instant; `later - earlier` is what happened in between."""

    stripe_calls: int
    stripe_s: float
    turnstile_s: float
    find_charge_s: float
    braintree_calls: int
    turnstile_checks: int
    redis_commands: int
    store_events: int
    routes: Counter[str]
    route_s: dict[str, float]

    def __sub__(self, other: Tally) -> Tally:
        return Tally(
            self.stripe_calls - other.stripe_calls,
            self.stripe_s - other.stripe_s,
            self.turnstile_s - other.turnstile_s,
            self.find_charge_s - other.find_charge_s,
            self.braintree_calls - other.braintree_calls,
            self.turnstile_checks - other.turnstile_checks,
            self.redis_commands - other.redis_commands,
            self.store_events - other.store_events,
            self.routes - other.routes,
            {r: s - other.route_s.get(r, 0.0) for r, s in self.route_s.items()},
        )


class Counters:
    """Where each total is read from. `tally()` costs one loopback query to PostgreSQL and
    one to Redis, so it is taken outside the timed calls."""

    def __init__(
        self,
        stripe_http: CountingHttpClient,
        human_check: TimedHumanCheck,
        find_charge: TimedCall,
        braintree_seen: Callable[[], int],
        turnstile_seen: Callable[[], int],
        redis_url: str,
        dsn: str,
    ) -> None:
        self.stripe, self.human_check, self.find_charge = stripe_http, human_check, find_charge
        self._braintree_seen, self._turnstile_seen = braintree_seen, turnstile_seen
        self._redis = redis.Redis.from_url(redis_url)
        self._db = psycopg.connect(dsn, autocommit=True)
        self._infos = 0

    def tally(self) -> Tally:
        return Tally(
            self.stripe.calls,
            self.stripe.seconds,
            self.human_check.seconds,
            self.find_charge.seconds,
            self._braintree_seen(),
            self._turnstile_seen(),
            self._redis_commands(),
            self._store_events(),
            Counter(self.stripe.by_route),
            dict(self.stripe.seconds_by_route),
        )

    def close(self) -> None:
        self._db.close()
        self._redis.close()

    def _redis_commands(self) -> int:
        """Commands the server processed, less this counter's own INFO calls: the server
        counts a command once it has answered it, so the k-th INFO sees the k-1 before."""
        processed = int(self._redis.info("stats")["total_commands_processed"])
        self._infos += 1
        return processed - (self._infos - 1)

    def _store_events(self) -> int:
        row = self._db.execute("SELECT count(*) FROM ledger_events").fetchone()
        return int(row[0]) if row else 0
