"""The projector: one FastStream consumer group per projection, fed by `billing.events`.

Each batch (which may mix partitions) is applied to the read model and the projection's
tracking in one PostgreSQL transaction; FastStream commits the offsets only after the
handler returns (AckPolicy.NACK_ON_ERROR) and seeks back on error, so nothing is
acknowledged before it is durable. Redeliveries are skipped by stream version.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog
from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from adapters.bootstrap import Container
from adapters.kafka import codec, groups
from adapters.metrics import record_batch, record_group
from projections.base import Projection
from projections.runtime import apply_batch

log = structlog.get_logger("projector")
GROUP_WATCH_S = 15.0


def group_id(projection: Projection[Any]) -> str:
    return f"ledger.projection.{projection.name}"


def build_broker(container: Container, projections: list[Projection[Any]]) -> KafkaBroker:
    settings = container.settings
    if not settings.kafka_bootstrap:
        raise RuntimeError("LEDGER_KAFKA_BOOTSTRAP is not set")
    broker = KafkaBroker(settings.kafka_bootstrap, logger=None, graceful_timeout=30.0)
    for projection in projections:
        _subscribe(broker, container, projection)
    return broker


def _subscribe(broker: KafkaBroker, container: Container, projection: Projection[Any]) -> None:
    def apply(bodies: list[dict[str, Any]]) -> None:
        envelopes = [codec.decode(body) for body in bodies]
        with container.connection() as conn:
            outcome = apply_batch(conn, projection, envelopes, container.reader)
        record_batch(projection.name, outcome, container.reader.head())

    @broker.subscriber(
        container.settings.topic,
        batch=True,
        group_id=group_id(projection),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        max_records=1000,
        batch_timeout_ms=50,
        # The broker's minimum: a killed projector's partitions move on after 6 s, not 10.
        session_timeout_ms=6000,
        heartbeat_interval_ms=2000,
    )
    async def handle(bodies: list[dict[str, Any]]) -> None:
        try:
            await asyncio.to_thread(apply, bodies)
        except Exception:
            log.exception("projection.batch_failed", projection=projection.name, size=len(bodies))
            raise


async def _watch_groups(
    container: Container, projections: list[Projection[Any]], stop: asyncio.Event
) -> None:
    """Every GROUP_WATCH_S, each group's Kafka lag and members as metrics."""
    settings = container.settings
    ids = {group_id(p): p.name for p in projections}
    while not stop.is_set():
        try:
            found = await groups.describe(str(settings.kafka_bootstrap), settings.topic, list(ids))
            for gid, status in found.items():
                record_group(ids[gid], status.lag, status.members)
        except Exception:  # a metric must never take the projector down
            log.warning("projector.group_watch_failed", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), GROUP_WATCH_S)


async def run(
    container: Container, projections: list[Projection[Any]], stop: asyncio.Event
) -> None:
    broker = build_broker(container, projections)
    async with broker:
        await broker.start()
        log.info("projector.started", projections=[p.name for p in projections])
        watcher = asyncio.create_task(_watch_groups(container, projections, stop))
        await stop.wait()
        await watcher
    log.info("projector.stopped")
