"""The Kafka projector with a poisoned event among 1,000 accounts (real broker): the batch
does not fail and come back forever, the parked account is listed and stuck, every other
account keeps flowing, its offsets are committed, and a retry after the fix applies it."""

from __future__ import annotations

import asyncio
import json
from uuid import UUID, uuid4

import pytest

from adapters.bootstrap import Container
from adapters.kafka import projector
from adapters.kafka.groups import describe
from adapters.kafka.relay import new_producer
from projections.runtime import retry_parked
from queries.health import HealthState, get_health
from queries.projections import poisoned_events
from tests.integration.test_kafka_flow import relay_everything
from tests.integration.test_projection_feed import table_rows
from tests.integration.test_projection_poison import (
    NUL_NAME,
    expected_accounts,
    inject_profile,
    nul_free_fold,
    open_accounts,
    rename,
)
from tests.integration.test_rebuild import rebuild_now


async def project_until(container: Container, bad: set[UUID], timeout_s: float = 120) -> None:
    """Runs every projection's consumer group until every stream but `bad` is at its head
    in every projection and each of `bad` is parked."""
    stop = asyncio.Event()
    task = asyncio.create_task(projector.run(container, list(container.projections.values()), stop))
    try:
        await asyncio.wait_for(_settled(container, bad), timeout_s)
    finally:
        stop.set()
        await task


async def _settled(container: Container, bad: set[UUID]) -> None:
    names, others = list(container.projections), list(bad)
    while True:
        with container.connection() as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM ledger_events WHERE NOT originator_id = ANY(%s)),"
                " (SELECT array_agg(coalesce(v, 0)) FROM unnest(%s::text[]) n LEFT JOIN"
                "  (SELECT projection, sum(version) AS v FROM projection_streams"
                "   WHERE NOT stream_id = ANY(%s) GROUP BY projection) s ON s.projection = n),"
                " (SELECT count(DISTINCT stream_id) FROM projection_poisoned"
                "  WHERE resolved_at IS NULL)",
                (others, names, others),
            ).fetchone()
        if row and all(applied == row[0] for applied in row[1]) and row[2] == len(bad):
            return
        await asyncio.sleep(0.1)


async def publish_unreadable(container: Container, account_id: UUID, version: int) -> None:
    """A message of an envelope schema this projector cannot read (its identity readable)."""
    body = {
        "schema": "billing.event/99",
        "event_type": "SomethingNew",
        "account_id": str(account_id),
        "stream_version": version,
        "position": 10**9,
        "meta": {"correlation_id": str(uuid4())},
    }
    producer = new_producer(str(container.settings.kafka_bootstrap))
    await producer.start()
    try:
        await producer.send_and_wait(
            container.settings.topic, json.dumps(body).encode(), key=str(account_id).encode()
        )
    finally:
        await producer.stop()


async def test_a_poisoned_event_on_the_kafka_path_parks_one_account_of_1000(
    kafka_container: Container,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    container = kafka_container
    ids = open_accounts(container, 1000)
    bad, odd = ids[123], ids[456]
    poisoned_version = inject_profile(container, bad, NUL_NAME)
    rename(container, bad, "behind@example.com")
    for account_id in ids[::50]:
        rename(container, account_id, f"{account_id.hex[:6]}@example.com")
    await relay_everything(container)
    await publish_unreadable(container, odd, 2)

    await project_until(container, {bad, odd})

    rows, expected = table_rows(container), expected_accounts(container)
    assert {a: r for a, r in rows.items() if a != bad} == {
        a: r for a, r in expected.items() if a != bad
    }
    assert rows[bad].version == poisoned_version - 1
    with container.connection() as conn:
        parked = {(p.projection, p.stream_id): p for p in poisoned_events(conn)}
        stuck = get_health(conn, bad, container.deps.clock.now())
    assert parked[("accounts", bad)].version == poisoned_version
    assert "NUL" in parked[("accounts", bad)].error
    assert parked[("accounts", bad)].attempts == 1  # parked once, never redelivered
    assert {p.event_type for (_, s), p in parked.items() if s == odd} == {"SomethingNew"}
    assert stuck is not None
    assert stuck.state == HealthState.STUCK
    assert "projection_poisoned" in stuck.reasons
    settings = container.settings
    group = projector.group_id(container.projections["accounts"])
    status = await describe(str(settings.kafka_bootstrap), settings.topic, [group])
    assert status[group].lag == 0  # committed: the poisoned batch is not redelivered forever

    rename(container, ids[1], "still-flowing@example.com")
    await relay_everything(container)
    await project_until(container, {bad, odd})
    assert table_rows(container)[ids[1]].email == "still-flowing@example.com"
    with container.connection() as conn:
        # `bad` parked in `accounts` (its NUL), `odd` in every projection (unreadable)
        assert [p.attempts for p in poisoned_events(conn)] == [1] * (1 + len(container.projections))

    nul_free_fold(monkeypatch)
    with container.connection() as conn:
        outcomes = retry_parked(conn, list(container.projections.values()), container.reader)
        assert poisoned_events(conn) == []
    assert all(o.resolved for o in outcomes)
    assert table_rows(container)[bad].version == poisoned_version + 1
    assert table_rows(container) == expected_accounts(container)
    for name in container.projections:
        assert rebuild_now(container, name).differences == [], name
