"""How long the relay keeps reconnecting: an outage is measured from its first failure and
ends when a session reads the store again, so many short outages never add up to a stop,
and one long one does. PostgreSQL is a switchable fake here (the real restarts are in
tests/integration/test_relay_operations.py)."""

from __future__ import annotations

import asyncio
import time
from contextlib import nullcontext
from typing import Any, cast

import psycopg
import pytest
from aiokafka import AIOKafkaProducer

from adapters.kafka.relay import DatabaseOutage, relay_until_stopped
from ledger.envelope import EventEnvelope


class SwitchableDatabase:
    def __init__(self) -> None:
        self.up = True
        self.generation = 0  # a restart cuts every connection of an older generation
        self.reads = 0

    def check(self, generation: int) -> None:
        if not self.up or generation != self.generation:
            raise psycopg.OperationalError("terminating connection due to administrator command")

    def restart_down(self) -> None:
        self.up = False
        self.generation += 1

    def connect(self) -> FakeConnection:
        self.check(self.generation)
        return FakeConnection(self, self.generation)

    def read_after(self, position: int, limit: int) -> list[EventEnvelope]:
        self.check(self.generation)
        self.reads += 1
        return []


class FakeConnection:
    def __init__(self, db: SwitchableDatabase, generation: int) -> None:
        self._db = db
        self._generation = generation

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        self._db.check(self._generation)
        return _Row((True,) if "advisory_lock" in sql else None)

    def transaction(self) -> Any:
        return nullcontext()

    def close(self) -> None:
        return None


class _Row:
    def __init__(self, row: tuple[Any, ...] | None) -> None:
        self._row = row

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._row


def start(db: SwitchableDatabase, stop: asyncio.Event, max_outage_s: float) -> asyncio.Task[None]:
    return asyncio.create_task(
        relay_until_stopped(
            cast(Any, db.connect),
            db.read_after,
            cast(AIOKafkaProducer, None),  # never used: the store stays empty
            "billing.events",
            stop,
            max_outage_s=max_outage_s,
            wait_max_s=0.05,
        )
    )


async def test_many_short_outages_never_add_up_to_a_stop() -> None:
    db, stop = SwitchableDatabase(), asyncio.Event()
    relay = start(db, stop, max_outage_s=0.6)
    for _ in range(8):  # 8 x 0.3 s down: far more than 0.6 s in all
        await asyncio.sleep(0.3)
        db.restart_down()
        await asyncio.sleep(0.3)
        db.up = True
        reads = db.reads
        while db.reads == reads:  # wait until the relay reads again
            assert not relay.done(), relay.exception()
            await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(relay, 5)


async def test_one_outage_longer_than_allowed_stops_the_relay() -> None:
    db, stop = SwitchableDatabase(), asyncio.Event()
    relay = start(db, stop, max_outage_s=0.6)
    await asyncio.sleep(0.2)
    began = time.monotonic()
    db.restart_down()
    with pytest.raises(DatabaseOutage, match=r"unreachable for more than 0\.6 s"):
        await asyncio.wait_for(relay, 5)
    assert 0.6 <= time.monotonic() - began < 2


async def test_a_stop_during_an_outage_ends_the_relay_quietly() -> None:
    db, stop = SwitchableDatabase(), asyncio.Event()
    relay = start(db, stop, max_outage_s=60)
    await asyncio.sleep(0.2)
    db.restart_down()
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait_for(relay, 5)
