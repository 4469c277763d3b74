"""Relay and projector against a real Kafka broker: publish, consume, redeliver, no doubles."""

from __future__ import annotations

import asyncio
import json

import psycopg
import pytest
from aiokafka import AIOKafkaConsumer

from adapters.bootstrap import Container
from adapters.forget import forget
from adapters.kafka import codec, personal, projector
from adapters.kafka.personal import published_reader
from adapters.kafka.relay import Relay, RelayAlreadyRunning, new_producer
from commands import accounts
from commands.models import UpdateProfile
from ledger.personal import ERASED, ERASED_EMAIL
from projections.accounts import AccountsProjection
from projections.base import fold_all
from tests.fakes.builders import open_cmd, service_ctx, support_ctx


def write_accounts(container: Container, count: int) -> None:
    for i in range(count):
        opened = accounts.open_account(container.deps, open_cmd(f"Kafka {i}"), service_ctx())
        cmd = UpdateProfile(account_id=opened.account_id, email=f"k{i}@example.com")
        accounts.update_profile(container.deps, cmd, service_ctx())


async def relay_everything(container: Container) -> int:
    conn = psycopg.connect(container.db.conninfo, autocommit=True)
    producer = new_producer(str(container.settings.kafka_bootstrap))
    await producer.start()
    try:
        read_after = published_reader(container)
        relay = Relay(conn, read_after, producer, container.settings.topic, 7)
        relay.acquire_lock()
        position = relay.position()
        while (published := await relay.publish_once(position)) is not None:
            position = published
        return position
    finally:
        await producer.stop()
        conn.close()


async def project_until_caught_up(container: Container, timeout_s: float = 60) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(projector.run(container, [container.projections["accounts"]], stop))
    try:
        await asyncio.wait_for(_caught_up(container), timeout_s)
    finally:
        stop.set()
        await task


async def _caught_up(container: Container) -> None:
    while True:
        with container.connection() as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM ledger_events),"
                " (SELECT coalesce(sum(version), 0) FROM projection_streams"
                "  WHERE projection = 'accounts')"
            ).fetchone()
        if row and row[0] == row[1]:
            return
        await asyncio.sleep(0.1)


def table_matches_a_rebuild(container: Container) -> None:
    expected = fold_all(AccountsProjection(), container.reader.read_after(0, 100_000))
    with container.connection() as conn, conn.cursor() as cur:
        actual = AccountsProjection().load(cur, list(expected))
    assert actual == expected
    assert all(r.events_applied == r.version for r in actual.values())


async def read_topic(container: Container, count: int) -> list[object]:
    consumer = AIOKafkaConsumer(
        container.settings.topic,
        bootstrap_servers=container.settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[object] = []
    try:
        while len(records) < count:
            batch = await consumer.getmany(timeout_ms=5000)
            if not batch:
                break
            records += [r for rs in batch.values() for r in rs]
    finally:
        await consumer.stop()
    return records


async def test_events_flow_from_store_to_read_model(kafka_container: Container) -> None:
    write_accounts(kafka_container, 25)
    head = kafka_container.reader.head()
    assert await relay_everything(kafka_container) == head
    records = await read_topic(kafka_container, head)
    assert len(records) == head
    first = records[0]
    headers = dict(first.headers)  # type: ignore[attr-defined]
    assert set(headers) >= {"event-type", "schema-version", "event-id", "position"}
    assert first.key is not None  # type: ignore[attr-defined]
    bodies = [json.loads(r.value) for r in records]  # type: ignore[attr-defined]
    opened = next(b for b in bodies if b["event_type"] == "AccountOpened")
    assert set(opened["data"]["name"]) == {"sealed"}  # no personal data in clear on the topic
    assert not [b for b in bodies if "Kafka 0" in json.dumps(b) or "k0@" in json.dumps(b)]
    await project_until_caught_up(kafka_container)
    table_matches_a_rebuild(kafka_container)  # the projector opened them to fold


async def test_a_forgotten_accounts_messages_on_the_topic_read_as_erased(
    kafka_container: Container,
) -> None:
    """What a subscriber holding copies sees: before forgetting the ledger's projector opens
    the sealed fields; after it, the same messages (and a rebuild from the topic) read as
    erased, and the account's later messages carry the erased values."""
    write_accounts(kafka_container, 2)
    await relay_everything(kafka_container)
    forgotten = next(iter(fold_all(AccountsProjection(), kafka_container.reader.read_after(0, 10))))
    forget(kafka_container, forgotten, support_ctx("erasure request"))
    head = await relay_everything(kafka_container)
    records = await read_topic(kafka_container, head)
    bodies = [json.loads(r.value) for r in records]  # type: ignore[attr-defined]
    assert [b["event_type"] for b in bodies].count("AccountForgotten") == 1
    cipher = kafka_container.app.personal
    assert cipher is not None
    envelopes = [personal.opened(codec.decode(b), cipher) for b in bodies]
    names = {(e.account_id, e.data["name"]) for e in envelopes if "name" in e.data}
    assert (forgotten, ERASED) in names
    assert not [n for a, n in names if a == forgotten and n != ERASED]
    assert [n for a, n in names if a != forgotten] == ["Kafka 1"]
    await project_until_caught_up(kafka_container)
    with kafka_container.connection() as conn:
        row = conn.execute(
            "SELECT name, email FROM accounts WHERE account_id = %s", (forgotten,)
        ).fetchone()
    assert row == (ERASED, ERASED_EMAIL)
    table_matches_a_rebuild(kafka_container)


async def test_republished_events_are_applied_once(kafka_container: Container) -> None:
    write_accounts(kafka_container, 10)
    await relay_everything(kafka_container)
    with kafka_container.connection() as conn:  # the relay "crashed" before saving
        conn.execute("DELETE FROM relay_positions")
        conn.commit()
    write_accounts(kafka_container, 5)
    await relay_everything(kafka_container)
    records = await read_topic(kafka_container, 2 * kafka_container.reader.head())
    assert len(records) > kafka_container.reader.head()  # duplicates on the topic
    await project_until_caught_up(kafka_container)
    table_matches_a_rebuild(kafka_container)


async def test_only_one_relay_runs_at_a_time(kafka_container: Container) -> None:
    first = psycopg.connect(kafka_container.db.conninfo, autocommit=True)
    second = psycopg.connect(kafka_container.db.conninfo, autocommit=True)
    producer = new_producer(str(kafka_container.settings.kafka_bootstrap))
    try:
        topic = kafka_container.settings.topic
        Relay(first, kafka_container.reader.read_after, producer, topic).acquire_lock()
        with pytest.raises(RelayAlreadyRunning):
            Relay(second, kafka_container.reader.read_after, producer, topic).acquire_lock()
    finally:
        first.close()
        second.close()


async def test_a_second_relay_waits_as_standby_until_the_first_is_gone(
    kafka_container: Container,
) -> None:
    first = psycopg.connect(kafka_container.db.conninfo, autocommit=True)
    second = psycopg.connect(kafka_container.db.conninfo, autocommit=True)
    producer = new_producer(str(kafka_container.settings.kafka_bootstrap))
    topic = kafka_container.settings.topic
    try:
        Relay(first, kafka_container.reader.read_after, producer, topic).acquire_lock()
        standby = Relay(second, kafka_container.reader.read_after, producer, topic)
        waiting = asyncio.create_task(standby.wait_for_lock(asyncio.Event(), poll_s=0.05))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        first.close()  # the active relay's session ends: its lock goes with it
        assert await asyncio.wait_for(waiting, 10) is True
    finally:
        second.close()
