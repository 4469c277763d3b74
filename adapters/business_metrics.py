"""The fleet's billing state as Prometheus metrics, read from the read models at scrape time
(queries/business_state.py), so every API process reports the same values, fresh whoever
opened which page. One read serves every scrape for `ttl_s` seconds (several scrapers, several
replicas' scrapes). A database that cannot answer leaves those families out of the scrape
(logged, counted in `billing_business_state_read_errors_total`): /metrics still answers with
everything else. Built and registered by create_app, never at import: nothing connects before
a scrape asks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric

from adapters.scrape_read import CachedRead, Connect, ReadFamilies
from queries.business_state import BusinessState, business_state
from queries.health import HealthPolicy

Samples = list[tuple[tuple[str, ...], float]]


@dataclass(frozen=True)
class _Family:
    name: str
    doc: str
    labels: tuple[str, ...]
    samples: Callable[[BusinessState, datetime], Samples]

    def empty(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(self.name, self.doc, labels=list(self.labels))

    def of(self, state: BusinessState, now: datetime) -> GaugeMetricFamily:
        family = self.empty()
        for values, value in self.samples(state, now):
            family.add_metric(list(values), value)
        return family


def _age(state: BusinessState, now: datetime) -> float:
    since = state.oldest_in_flight_since
    return max(0.0, (now - since).total_seconds()) if since else 0.0


FAMILIES = (
    _Family(
        "billing_accounts",
        "Accounts in each health state (queries/health.py), computed at scrape time",
        ("state",),
        lambda s, _: [((k.value,), n) for k, n in s.by_state.items()],
    ),
    _Family(
        "billing_stuck_accounts",
        "Stuck accounts by reason; an account stuck for several reasons counts under each",
        ("reason",),
        lambda s, _: [((k,), n) for k, n in s.stuck_by_reason.items()],
    ),
    _Family(
        "billing_bad_debt_minor_units",
        "Uncollectible invoices' amount due, in minor units of the currency",
        ("currency",),
        lambda s, _: [((k,), n) for k, n in s.bad_debt_by_currency.items()],
    ),
    _Family(
        "billing_open_receivable_minor_units",
        "Open invoices' amount due, in minor units of the currency",
        ("currency",),
        lambda s, _: [((k,), n) for k, n in s.open_receivable_by_currency.items()],
    ),
    _Family(
        "billing_oldest_attempt_in_flight_age_seconds",
        "How long the oldest payment attempt has waited for its processor's answer (0: none)",
        (),
        lambda s, now: [((), _age(s, now))],
    ),
    _Family(
        "billing_payments_waiting_for_customer",
        "Payment attempts waiting for the customer to authenticate (3-D Secure), not expired",
        (),
        lambda s, _: [((), s.waiting_for_customer)],
    ),
)
READ = ReadFamilies(
    "billing_business_state_read_errors",
    (
        "Reads of the business state the database did not answer (those scrapes left out the"
        " business families)"
    ),
    "billing_business_state_read_duration_seconds",
    "How long the last read of the business state took",
)


class BusinessMetrics:
    """A prometheus_client collector of the business state (see the module's docstring)."""

    def __init__(
        self,
        connect: Connect,
        now: Callable[[], datetime],
        ttl_s: float = 5.0,
        statement_timeout_ms: int = 5000,
        policy: HealthPolicy | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._now = now
        self._reads = CachedRead(
            connect,
            lambda conn: business_state(conn, now(), policy),
            "metrics.business_state_unavailable",
            ttl_s,
            statement_timeout_ms,
            monotonic,
        )

    def describe(self) -> Iterator[Metric]:
        """The families without samples: registering reads nothing."""
        yield from READ.described()
        for family in FAMILIES:
            yield family.empty()

    def collect(self) -> Iterator[Metric]:
        read = self._reads.current()
        yield from READ.collected(self._reads.errors, read)
        if read.state is None:
            return
        now = self._now()
        for family in FAMILIES:
            yield family.of(read.state, now)


def business_registry(collector: BusinessMetrics) -> CollectorRegistry:
    """A registry of the app's own, so that every app (each test's too) has its collector."""
    registry = CollectorRegistry()
    registry.register(collector)
    return registry
