"""The projector: one FastStream consumer group per projection, fed by `billing.events`.

Each batch (which may mix partitions) is applied to the read model and the projection's
tracking in one PostgreSQL transaction; FastStream commits the offsets only after the
handler returns (AckPolicy.NACK_ON_ERROR) and seeks back on error, so nothing is
acknowledged before it is durable. Redeliveries are skipped by stream version.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from adapters.bootstrap import Container
from adapters.kafka import codec
from adapters.metrics import record_batch
from projections.base import Projection
from projections.runtime import apply_batch

log = structlog.get_logger("projector")


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


async def run(
    container: Container, projections: list[Projection[Any]], stop: asyncio.Event
) -> None:
    broker = build_broker(container, projections)
    async with broker:
        await broker.start()
        log.info("projector.started", projections=[p.name for p in projections])
        await stop.wait()
    log.info("projector.stopped")
