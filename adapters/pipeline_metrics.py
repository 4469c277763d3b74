"""The pipeline's positions and lag as Prometheus metrics, read from PostgreSQL at scrape time
(queries/pipeline_state.py) by whichever process is scraped (the API, the relay, the
projector): the head is read independently of the consumers, so a relay or projector that
stops shows a lag that grows instead of its last values. One read serves every scrape for
`ttl_s` seconds. A database that cannot answer leaves these families out (logged, counted in
`billing_pipeline_state_read_errors_total`); /metrics still answers with everything else.
Built and registered by the composition root, never at import."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric

from adapters.bootstrap import Container
from adapters.kafka.relay import RELAY_NAME
from adapters.scrape_read import CachedRead, Connect, ReadFamilies
from queries.pipeline_state import PipelineState, pipeline_state
from queries.projections import EventTime

READ = ReadFamilies(
    "billing_pipeline_state_read_errors",
    "Reads of the pipeline state the database did not answer",
    "billing_pipeline_state_read_duration_seconds",
    "How long the last read of the pipeline state took",
)


def _gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


def _families(state: PipelineState | None) -> list[GaugeMetricFamily]:
    """Every family, with its samples when there is a state."""
    head = _gauge("billing_store_head_position", "Highest global position in the event store")
    relay = [
        _gauge("billing_relay_published_position", "Position the relay keeps as published"),
        _gauge("billing_relay_lag_events", "Store head minus the relay's published position"),
        _gauge("billing_relay_lag_seconds", "How long the first unpublished event has waited"),
    ]
    per = ("projection",)
    projections = [
        _gauge("billing_projection_position", "Highest global position applied", per),
        _gauge("billing_projection_lag_events", "Store head minus the position applied", per),
        _gauge(
            "billing_projection_store_lag_seconds",
            "How long the first event the projection has not applied has waited (0: none)",
            per,
        ),
        _gauge(
            "billing_projection_poisoned_streams",
            "Streams parked on an event the projection could not apply",
            per,
        ),
    ]
    rebuild = _gauge(
        "billing_projection_rebuild_progress_ratio",
        "A rebuild under way (or interrupted): its shadow's position over the store head",
        per,
    )
    if state is not None:
        head.add_metric([], state.head)
        if state.relay is not None:
            kept = (state.relay.position, state.relay.lag_events, state.relay.lag_seconds)
            for family, value in zip(relay, kept, strict=True):
                family.add_metric([], value)
        for s in state.projections:
            values = (s.max_position, s.lag_events, s.lag_seconds, s.poisoned)
            for family, value in zip(projections, values, strict=True):
                family.add_metric([s.projection], value)
        for name, ratio in state.rebuild_progress.items():
            rebuild.add_metric([name], ratio)
    return [head, *relay, *projections, rebuild]


class PipelineMetrics:
    """A prometheus_client collector of the pipeline state (see the module's docstring)."""

    def __init__(
        self,
        connect: Connect,
        projections: Callable[[], list[str]],
        relay: str,
        event_time: EventTime,
        now: Callable[[], datetime],
        ttl_s: float = 5.0,
        statement_timeout_ms: int = 5000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reads = CachedRead(
            connect,
            lambda conn: pipeline_state(conn, projections(), relay, event_time, now()),
            "metrics.pipeline_state_unavailable",
            ttl_s,
            statement_timeout_ms,
            monotonic,
        )

    def describe(self) -> Iterator[Metric]:
        """The families without samples: registering reads nothing."""
        yield from READ.described()
        yield from _families(None)

    def collect(self) -> Iterator[Metric]:
        read = self._reads.current()
        yield from READ.collected(self._reads.errors, read)
        if read.state is None:
            return
        yield from _families(read.state)


def pipeline_metrics(container: Container, connection_wait_s: float = 2.0) -> PipelineMetrics:
    """The collector of a process's container: its projections, the relay's kept position,
    a scrape waiting at most `connection_wait_s` for a pooled connection."""

    def event_time(position: int) -> datetime | None:
        after = container.reader.read_after(position, 1)
        return after[0].occurred_at if after else None

    return PipelineMetrics(
        lambda: container.pool.connection(timeout=connection_wait_s),
        lambda: list(container.projections),  # at each read, as the clock: nothing at build
        RELAY_NAME,
        event_time,
        lambda: container.deps.clock.now(),
        ttl_s=container.settings.metrics_cache_s,
    )
