"""For random billing histories, the read models built incrementally through the real Kafka
broker (relay -> topic -> projector consumer groups), rebuilt from the store through the
shadow-schema rebuild, and recomputed account by account are the same row for row.

The examples share one database and topic: each adds to the history, and the projector's
consumer groups resume from their committed offsets, as they would in production."""

from __future__ import annotations

import asyncio
import dataclasses
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.bootstrap import Container
from adapters.kafka import projector
from projections.recompute import recompute_stream
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway
from tests.integration.test_kafka_flow import relay_everything
from tests.integration.test_read_models_agree import random_history, snapshot
from tests.integration.test_rebuild import rebuild_now


async def project_everything(container: Container, timeout_s: float = 90) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(projector.run(container, list(container.projections.values()), stop))
    try:
        await asyncio.wait_for(_all_caught_up(container), timeout_s)
    finally:
        stop.set()
        await task


async def _all_caught_up(container: Container) -> None:
    names = list(container.projections)
    while True:
        with container.connection() as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM ledger_events),"
                " (SELECT array_agg(coalesce(v, 0)) FROM unnest(%s::text[]) n LEFT JOIN"
                "  (SELECT projection, sum(version) AS v FROM projection_streams"
                "   GROUP BY projection) s ON s.projection = n)",
                (names,),
            ).fetchone()
        if row and all(applied == row[0] for applied in row[1]):
            return
        await asyncio.sleep(0.05)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_kafka_built_rebuilt_and_recomputed_read_models_agree(
    kafka_container: Container,
    data: st.DataObject,
) -> None:
    container = kafka_container
    gateway, clock = FakeGateway(), FixedClock()
    deps = dataclasses.replace(container.deps, gateway=gateway, clock=clock)
    ids = random_history(data, deps, gateway, clock)
    asyncio.run(relay_everything(container))
    asyncio.run(project_everything(container))
    every = _all_accounts(container)
    through_kafka = snapshot(container, every)
    assert all(through_kafka[name] for name in ("accounts", "health"))

    for name in container.projections:
        report = rebuild_now(container, name)
        assert report.differences == [], f"{name}: Kafka-built rows differ from the store's"
    assert snapshot(container, every) == through_kafka

    with container.connection() as conn:
        for account_id in ids:
            stream = container.reader.stream_between(account_id, 0, None)
            recompute_stream(conn, list(container.projections.values()), account_id, stream)
    assert snapshot(container, every) == through_kafka


def _all_accounts(container: Container) -> list[UUID]:
    with container.connection() as conn:
        return [r[0] for r in conn.execute("SELECT DISTINCT originator_id FROM ledger_events")]
