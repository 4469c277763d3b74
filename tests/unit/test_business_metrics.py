"""The business-state collector without a database: registering it reads nothing, and a read
the database refused is counted once and serves the scrapes of its cache time like any read
(a stopped database is not asked again at every scrape)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from prometheus_client import generate_latest
from psycopg import Connection
from structlog.testing import capture_logs

from adapters.business_metrics import BusinessMetrics, business_registry
from tests.fakes.clock import FixedClock


class Refusing:
    """A connection source whose database is down: counts what it was asked."""

    def __init__(self) -> None:
        self.asked = 0

    @contextmanager
    def __call__(self) -> Iterator[Connection[Any]]:
        self.asked += 1
        raise psycopg.OperationalError("connection refused")
        yield  # pragma: no cover - never reached


def test_registering_reads_nothing() -> None:
    refusing = Refusing()
    business_registry(BusinessMetrics(refusing, FixedClock().now))
    assert refusing.asked == 0


def test_a_refused_read_is_counted_once_and_kept_for_the_cache_time() -> None:
    refusing, now = Refusing(), [100.0]
    collector = BusinessMetrics(refusing, FixedClock().now, ttl_s=5, monotonic=lambda: now[0])
    registry = business_registry(collector)

    def errors() -> float | None:
        return registry.get_sample_value("billing_business_state_read_errors_total")

    with capture_logs() as logs:
        assert (errors(), errors()) == (1, 1)
        now[0] += 4.9
        assert errors() == 1
        now[0] += 0.1
        assert errors() == 2
    assert refusing.asked == 2
    assert [e["event"] for e in logs] == ["metrics.business_state_unavailable"] * 2
    exposed = generate_latest(registry).decode()
    assert "billing_accounts" not in exposed
    assert "billing_business_state_read_errors_total 2.0" in exposed
