"""The pipeline-state collector without a database: registering it reads nothing, and a read
the database refused is counted once and serves the scrapes of its cache time (a stopped
database is not asked again at every scrape)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from structlog.testing import capture_logs

from adapters.pipeline_metrics import PipelineMetrics
from tests.fakes.clock import FixedClock
from tests.unit.test_business_metrics import Refusing


def collector(refusing: Refusing, now: list[float]) -> PipelineMetrics:
    return PipelineMetrics(
        refusing,
        lambda: ["accounts"],
        "billing.events",
        lambda _: None,
        FixedClock().now,
        ttl_s=5,
        monotonic=lambda: now[0],
    )


def test_registering_reads_nothing() -> None:
    refusing = Refusing()
    CollectorRegistry().register(collector(refusing, [0.0]))
    assert refusing.asked == 0


def test_a_refused_read_is_counted_once_and_kept_for_the_cache_time() -> None:
    refusing, now = Refusing(), [100.0]
    registry = CollectorRegistry()
    registry.register(collector(refusing, now))

    def errors() -> float | None:
        return registry.get_sample_value("billing_pipeline_state_read_errors_total")

    with capture_logs() as logs:
        assert (errors(), errors()) == (1, 1)
        now[0] += 5
        assert errors() == 2
    assert refusing.asked == 2
    assert [e["event"] for e in logs] == ["metrics.pipeline_state_unavailable"] * 2
    exposed = generate_latest(registry).decode()
    assert "billing_store_head_position" not in exposed
    assert "billing_projection_lag_events" not in exposed
