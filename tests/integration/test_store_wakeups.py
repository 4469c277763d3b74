"""Followers of the store sleep until it commits: the recorder's NOTIFY wakes them (through
`StoreWakeups`), a lost LISTEN connection comes back and wakes them meanwhile, and the relay
publishes what is committed while it waits, in order, each batch read while the previous
one is sent."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator

import psycopg
import pytest

from adapters.bootstrap import Container, store_wakeups
from adapters.kafka import relay as relay_module
from adapters.kafka.personal import published_reader
from adapters.kafka.relay import Relay, new_producer
from adapters.postgres.wakeups import StoreWakeups
from tests.harness.process import wait_until
from tests.integration.test_kafka_flow import read_topic, write_accounts


@pytest.fixture
def wakeups(container: Container) -> Iterator[StoreWakeups]:
    started = store_wakeups(container).start()
    assert started.listening
    yield started
    started.stop()


def test_a_commit_wakes_a_waiter_armed_before_it(
    container: Container, wakeups: StoreWakeups
) -> None:
    wakeups.arm()
    assert not wakeups.wait(0.2)  # nothing committed since
    wakeups.arm()
    write_accounts(container, 1)
    assert wakeups.wait(30)


def test_a_commit_from_another_thread_ends_a_wait_in_progress(
    container: Container, wakeups: StoreWakeups
) -> None:
    wakeups.arm()
    writer = threading.Timer(0.2, write_accounts, (container, 1))
    writer.start()
    assert wakeups.wait(30)
    writer.join()


def test_a_lost_listen_connection_wakes_waiters_and_listens_again(
    container: Container, wakeups: StoreWakeups
) -> None:
    with psycopg.connect(container.db.conninfo, autocommit=True) as admin:
        wakeups.arm()
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE query LIKE 'LISTEN%%' AND pid <> pg_backend_pid()"
        )
        assert wakeups.wait(30)  # commits may have been missed: followers read again
        assert eventually(lambda: wakeups.listening), "the wake-ups never listened again"
    assert eventually(lambda: _armed_and_woken(container, wakeups)), "no commit woke it again"


def eventually(holds: Callable[[], bool], timeout_s: float = 30) -> bool:
    reason = wait_until(holds, timeout_s=timeout_s, alive=lambda: True)
    return reason is None


def _armed_and_woken(container: Container, wakeups: StoreWakeups) -> bool:
    wakeups.arm()
    write_accounts(container, 1)
    return wakeups.wait(5)


async def test_the_relay_woken_by_commits_publishes_everything_in_order(
    kafka_container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The relay's longest idle wait is made an hour: it publishes the later commits only
    because they wake it. Batches of 7 over 5 rounds of writes: each batch is read while
    the one before is sent, and the topic holds every position once, in order per account."""
    monkeypatch.setattr(relay_module, "IDLE_MAX_S", 3600.0)
    wakeups = store_wakeups(kafka_container).start()
    conn = psycopg.connect(kafka_container.db.conninfo, autocommit=True)
    producer = new_producer(str(kafka_container.settings.kafka_bootstrap))
    await producer.start()
    stop = asyncio.Event()
    relay = Relay(
        conn, published_reader(kafka_container), producer, kafka_container.settings.topic, 7,
        wakeups=wakeups,
    )  # fmt: skip
    relay.acquire_lock()
    running = asyncio.create_task(relay.run(stop))
    try:
        for _ in range(5):
            await asyncio.to_thread(write_accounts, kafka_container, 4)
            head = kafka_container.reader.head()
            await asyncio.wait_for(_published(relay, head), 60)
    finally:
        stop.set()
        wakeups.wake()  # ends the hour-long wait now that stop is set
        await running
        wakeups.stop()
        await producer.stop()
        conn.close()
    records = await read_topic(kafka_container, kafka_container.reader.head())
    positions = [int(dict(r.headers)["position"]) for r in records]  # type: ignore[attr-defined]
    assert sorted(positions) == list(range(1, kafka_container.reader.head() + 1))


async def _published(relay: Relay, head: int) -> None:
    position = await asyncio.to_thread(relay.position)
    while position < head:
        await asyncio.sleep(0.05)
        position = await asyncio.to_thread(relay.position)
