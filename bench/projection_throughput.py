"""Projection throughput into the `accounts` read model: from Kafka, and from the store."""

from __future__ import annotations

import asyncio
from typing import Any

from psycopg import Connection

from adapters.bootstrap import Container
from adapters.kafka.projector import build_broker
from bench.measure import Stopwatch, Throughput
from projections.feed import catch_up, reset

PROJECTION = "accounts"
POLL_S = 0.05
TIMEOUT_S = 600.0


def expected_versions(conn: Connection[Any]) -> tuple[int, int]:
    """(streams, sum of head versions) of the store: what a caught-up projection tracks."""
    row = conn.execute(
        "SELECT count(*), coalesce(sum(v), 0) FROM"
        " (SELECT max(originator_version) AS v FROM ledger_events GROUP BY originator_id) s"
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def tracked_versions(conn: Connection[Any]) -> tuple[int, int]:
    row = conn.execute(
        "SELECT count(*), coalesce(sum(version), 0) FROM projection_streams WHERE projection = %s",
        (PROJECTION,),
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def behind(conn: Connection[Any]) -> int:
    """Streams whose tracked version is below the store's head version (0 = covered)."""
    row = conn.execute(
        "SELECT count(*) FROM (SELECT originator_id, max(originator_version) AS v"
        " FROM ledger_events GROUP BY originator_id) s LEFT JOIN projection_streams p"
        " ON p.projection = %s AND p.stream_id = s.originator_id"
        " WHERE p.version IS NULL OR p.version < s.v",
        (PROJECTION,),
    ).fetchone()
    return int(row[0]) if row else -1


async def from_kafka(container: Container, events: int) -> Throughput:
    """The FastStream projector from the topic's start until projection_streams covers the
    store (polled every 50 ms). The clock starts before the consumer joins its group."""
    with container.connection() as conn:
        target = expected_versions(conn)
    broker = build_broker(container, [container.projections[PROJECTION]])
    watch = Stopwatch()
    first_row_s: float | None = None
    async with broker:
        await broker.start()
        while (tracked := await asyncio.to_thread(_tracked, container)) != target:
            if first_row_s is None and tracked[0]:
                first_row_s = watch.seconds
            if watch.seconds > TIMEOUT_S:
                raise TimeoutError(f"projector stalled at {tracked} of {target}")
            await asyncio.sleep(POLL_S)
        seconds, busy = watch.seconds, watch.cpu()
    with container.connection() as conn:
        missing = behind(conn)
    startup = first_row_s or 0.0
    return Throughput(
        key="project_kafka",
        stage="projector: Kafka -> read model",
        events=events,
        seconds=seconds,
        cpu=busy,
        notes="FastStream batch subscriber (1,000 records), group join included",
        extra={
            "first_row_s": round(startup, 3),
            "events_per_s_after_first_row": round(events / max(seconds - startup, 1e-9), 1),
            "streams_behind_at_end": missing,
        },
    )


def from_store(container: Container, events: int) -> Throughput:
    """projections.feed.reset, then catch_up from position 0 (pages of 1,000)."""
    projection = container.projections[PROJECTION]
    with container.connection() as conn:
        reset(conn, projection)
    watch = Stopwatch()
    applied = catch_up(container.connection, projection, container.reader)
    seconds, busy = watch.seconds, watch.cpu()
    with container.connection() as conn:
        missing = behind(conn)
    return Throughput(
        key="project_feed",
        stage="store feed: store -> read model",
        events=events,
        seconds=seconds,
        cpu=busy,
        notes="projections.feed.catch_up after reset, pages of 1,000",
        extra={"applied": applied, "streams_behind_at_end": missing},
    )


def _tracked(container: Container) -> tuple[int, int]:
    with container.connection() as conn:
        return tracked_versions(conn)
