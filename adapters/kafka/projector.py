"""The projector: one FastStream consumer group per projection, fed by `billing.events`.

Each batch (which may mix partitions) is applied to the read model and the projection's
tracking in one PostgreSQL transaction; FastStream commits the offsets only after the
handler returns (AckPolicy.NACK_ON_ERROR) and seeks back on error, so nothing is
acknowledged before it is durable. Redeliveries are skipped by stream version.

An event the projection cannot apply (its fold or its write raises, or the message cannot be
decoded) parks its stream (projections/poison.py) and the rest of the batch commits: one
bad event never makes a batch fail and come back forever. The parked stream's later
messages are committed without being applied; `ledger projections poisoned retry` reads
them from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from uuid import UUID

import structlog
from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from adapters.bootstrap import Container
from adapters.kafka import codec, groups
from adapters.kafka.personal import opened, personal_paths
from adapters.metrics import record_batch, record_group
from commands.personal import FieldCipher
from ledger.envelope import EventEnvelope, event_id_for
from projections.base import Projection
from projections.poison import Poisoned, describe
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
        envelopes, unreadable = decode_batch(bodies, container.app.personal)
        with container.connection() as conn:
            outcome = apply_batch(
                conn, projection, envelopes, container.reader, unreadable=unreadable
            )
        record_batch(projection.name, outcome, container.reader.head())

    @broker.subscriber(
        container.settings.topic,
        batch=True,
        group_id=group_id(projection),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        max_records=1000,
        batch_timeout_ms=50,
        decoder=codec.batch_bodies,
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


def decode_batch(
    bodies: list[dict[str, Any]], cipher: FieldCipher | None = None
) -> tuple[list[EventEnvelope], list[Poisoned]]:
    """The envelopes of a batch; a message that cannot be decoded parks its stream (when
    its account, version and position can be read) instead of failing the batch forever.
    Personal fields sealed by the relay are opened with `cipher` (adapters/kafka/personal.py).
    One whose identity cannot be read is logged and left: the store still has the event,
    and the stream's next event fetches it from there as a missing predecessor."""
    envelopes: list[EventEnvelope] = []
    unreadable: list[Poisoned] = []
    for body in bodies:
        try:
            envelopes.append(codec.decode(body))
        except Exception as error:
            identity = _identity(body)
            if identity is None:
                log.error("projection.message_unreadable", error=describe(error))
            else:
                unreadable.append(Poisoned(identity, describe(error)))
    if cipher is not None:  # outside the guard: a key store that cannot answer fails the
        cipher.warm({e.account_id for e in envelopes if personal_paths(e.event_type)})
        envelopes = [opened(e, cipher) for e in envelopes]  # batch (redelivered), parks nothing
    return envelopes, unreadable


def _identity(body: Any) -> EventEnvelope | None:
    try:
        account_id = UUID(str(body["account_id"]))
        version = int(body["stream_version"])
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        return EventEnvelope(
            event_id=event_id_for(account_id, version),
            event_type=str(body.get("event_type", "?")),
            schema_version=0,
            account_id=account_id,
            stream_version=version,
            position=int(body["position"]),
            meta={"correlation_id": meta.get("correlation_id")},
            data={},
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


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
