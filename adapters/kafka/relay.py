"""The relay: publishes every event after its durable position to Kafka, at least once.

Order of work per batch: read notifications after the position, send them all, wait for
every acknowledgement (acks=all, idempotent producer), then store the new position. A crash
anywhere republishes at most one batch; consumers skip what they have already applied. A
session advisory lock keeps a second relay from running at the same time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from psycopg import Connection

from adapters.kafka import codec
from adapters.metrics import RELAY_POSITION, RELAY_PUBLISHED
from ledger.envelope import EventEnvelope

log = structlog.get_logger("relay")
RELAY_NAME = "billing.events"
_LOCK_KEY = 0x1ED6E7  # advisory lock id reserved for the relay


class RelayAlreadyRunning(RuntimeError):
    pass


def new_producer(bootstrap: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=512 * 1024,
        request_timeout_ms=30_000,
    )


class Relay:
    def __init__(
        self,
        conn: Connection[Any],
        read_after: Callable[[int, int], list[EventEnvelope]],
        producer: AIOKafkaProducer,
        topic: str,
        batch_size: int = 2000,
    ) -> None:
        self._conn = conn
        self._read_after = read_after
        self._producer = producer
        self._topic = topic
        self._batch_size = batch_size

    def acquire_lock(self) -> None:
        row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (_LOCK_KEY,)).fetchone()
        if not row or not row[0]:
            raise RelayAlreadyRunning("another relay holds the lock")

    async def wait_for_lock(self, stop: asyncio.Event, poll_s: float = 1.0) -> bool:
        """Hot standby: waits until no other relay holds the lock (or `stop`). A relay that
        died leaves the lock until PostgreSQL notices its session is gone."""
        announced = False
        while not stop.is_set():
            try:
                self.acquire_lock()
                return True
            except RelayAlreadyRunning:
                if not announced:
                    log.info("relay.standby", reason="another relay holds the lock")
                    announced = True
                await _wait(stop, poll_s)
        return False

    def position(self) -> int:
        row = self._conn.execute(
            "SELECT position FROM relay_positions WHERE relay = %s", (RELAY_NAME,)
        ).fetchone()
        return int(row[0]) if row else 0

    async def run(self, stop: asyncio.Event, idle_wait_s: float = 0.02) -> None:
        position = self.position()
        log.info("relay.started", position=position, topic=self._topic)
        while not stop.is_set():
            published = await self.publish_once(position)
            if published is None:
                await _wait(stop, idle_wait_s)
                continue
            position = published

    async def publish_once(self, position: int) -> int | None:
        """Publishes one batch after `position`; returns the new position, None if idle."""
        envelopes = await asyncio.to_thread(self._read_after, position, self._batch_size)
        if not envelopes:
            return None
        await self._send_all(envelopes)
        new_position = envelopes[-1].position
        await asyncio.to_thread(self._save_position, new_position)
        RELAY_PUBLISHED.inc(len(envelopes))
        RELAY_POSITION.set(new_position)
        return new_position

    async def _send_all(self, envelopes: list[EventEnvelope]) -> None:
        futures = [
            await self._producer.send(
                self._topic,
                value=codec.value_of(env),
                key=codec.key_of(env),
                headers=codec.headers_of(env),
            )
            for env in envelopes
        ]
        await asyncio.gather(*futures)

    def _save_position(self, position: int) -> None:
        with self._conn.transaction():
            self._conn.execute(
                "INSERT INTO relay_positions (relay, position, updated_at)"
                " VALUES (%s, %s, now()) ON CONFLICT (relay) DO UPDATE"
                " SET position = EXCLUDED.position, updated_at = now()",
                (RELAY_NAME, position),
            )


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return
