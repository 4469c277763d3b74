"""The relay: publishes every event after its durable position to Kafka, at least once.

Order of work per batch: read notifications after the position, send them all, wait for
every acknowledgement (acks=all, idempotent producer), then store the new position. A crash
anywhere republishes at most one batch; consumers skip what they have already applied.
Behind the head, the next batch is read from the store while the current one is being sent;
caught up, it reads at most every MIN_CYCLE_S, and at the head it sleeps until the store's
NOTIFY of a commit (adapters/postgres/wakeups.py). A session advisory lock keeps a second
relay from running at the same time.

`relay_until_stopped` survives PostgreSQL restarts: a lost connection ends the session, and
a new one (connect, take the lock again or wait as standby, resume from the stored
position) is tried with backoff until `max_outage_s` has passed since the first failure.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import eventsourcing.persistence as es
import psycopg
import stamina
import structlog
from aiokafka import AIOKafkaProducer
from psycopg import Connection

from adapters.kafka import codec
from adapters.metrics import RELAY_POSITION, RELAY_PUBLISHED
from adapters.postgres.wakeups import StoreWakeups
from ledger.envelope import EventEnvelope

log = structlog.get_logger("relay")
RELAY_NAME = "billing.events"
_LOCK_KEY = 0x1ED6E7  # advisory lock id reserved for the relay
IDLE_MAX_S = 0.5  # with wake-ups: the longest wait at the head (a missed NOTIFY costs this)
MIN_CYCLE_S = 0.01  # caught up: reads at most this often (latency traded for fuller batches)


# What a restart, a failover or a terminated backend raises (from psycopg, and from the
# event store's recorder, which has already retried for about 2 s).
CONNECTION_LOST = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    es.OperationalError,
    es.InterfaceError,
)


class RelayAlreadyRunning(RuntimeError):
    pass


class DatabaseOutage(RuntimeError):
    """PostgreSQL stayed unreachable for longer than the relay may wait."""


class _SessionLost(Exception):
    """A session that had made progress lost its connection: a new outage begins."""


def new_producer(bootstrap: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=0,  # a batch is queued whole before the sender runs: lingering only adds latency
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
        wakeups: StoreWakeups | None = None,
    ) -> None:
        self._conn = conn
        self._wakeups = wakeups
        self._read_at = 0.0  # when the last read began (monotonic)
        self._read_after = read_after
        self._producer = producer
        self._topic = topic
        self._batch_size = batch_size
        self.progressed = False  # the store answered a read or a standby poll

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
                self.progressed = True
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
        """Publishes until `stop`. Behind the head (a full batch), the next batch is read
        while the current one is sent and acknowledged (the position is still saved only
        after every acknowledgement). Caught up, it reads again at most every
        `MIN_CYCLE_S` (commits arriving meanwhile go out together, so a busy store costs
        fewer, fuller cycles), and at the head it waits for a commit (`wakeups`; at most
        `IDLE_MAX_S`), or `idle_wait_s` without them."""
        position = self.position()
        log.info("relay.started", position=position, topic=self._topic)
        reading = self._read_in_background(position)
        try:
            while not stop.is_set():
                envelopes = await reading
                self.progressed = True
                position = envelopes[-1].position if envelopes else position
                behind = len(envelopes) >= self._batch_size
                if behind:
                    reading = self._read_in_background(position)
                if envelopes:
                    await self._publish(envelopes)
                if not behind:
                    if not envelopes:
                        await self._idle(stop, idle_wait_s)
                    await asyncio.sleep(max(0.0, self._read_at + MIN_CYCLE_S - time.monotonic()))
                    reading = self._read_in_background(position)
        finally:
            await asyncio.gather(reading, return_exceptions=True)

    async def publish_once(self, position: int) -> int | None:
        """Publishes one batch after `position`; returns the new position, None if idle."""
        envelopes = await asyncio.to_thread(self._read_after, position, self._batch_size)
        self.progressed = True
        if not envelopes:
            return None
        await self._publish(envelopes)
        return envelopes[-1].position

    def _read_in_background(self, position: int) -> asyncio.Task[list[EventEnvelope]]:
        self._read_at = time.monotonic()
        if self._wakeups is not None:
            self._wakeups.arm()  # before the read: a commit it misses wakes the idle wait
        return asyncio.create_task(asyncio.to_thread(self._read_after, position, self._batch_size))

    async def _idle(self, stop: asyncio.Event, idle_wait_s: float) -> None:
        if self._wakeups is None:
            await _wait(stop, idle_wait_s)
        elif not stop.is_set():
            await asyncio.to_thread(self._wakeups.wait, IDLE_MAX_S)

    async def _publish(self, envelopes: list[EventEnvelope]) -> None:
        await self._send_all(envelopes)
        new_position = envelopes[-1].position
        await asyncio.to_thread(self._save_position, new_position)
        RELAY_PUBLISHED.inc(len(envelopes))
        RELAY_POSITION.set(new_position)

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


async def relay_until_stopped(
    connect: Callable[[], Connection[Any]],
    read_after: Callable[[int, int], list[EventEnvelope]],
    producer: AIOKafkaProducer,
    topic: str,
    stop: asyncio.Event,
    *,
    max_outage_s: float,
    wait_max_s: float = 5.0,
    wakeups: StoreWakeups | None = None,
) -> None:
    """Relays until `stop`, reconnecting after every lost PostgreSQL connection; raises
    DatabaseOutage when no session got an answer from the store for `max_outage_s`."""

    async def session() -> None:
        conn = await asyncio.to_thread(connect)
        relay = Relay(conn, read_after, producer, topic, wakeups=wakeups)
        try:
            if await relay.wait_for_lock(stop):
                await relay.run(stop)
        except CONNECTION_LOST as error:
            if relay.progressed:
                raise _SessionLost() from error
            raise
        finally:
            conn.close()

    while not stop.is_set():
        try:
            await _through_one_outage(session, stop, _Outage(max_outage_s), wait_max_s)
            return
        except _SessionLost as lost:
            log.warning("relay.connection_lost", error=str(lost.__cause__))


class _Outage:
    """The clock of one outage: it starts at the first failure."""

    def __init__(self, max_s: float) -> None:
        self.max_s = max_s
        self._since: float | None = None

    def tolerates(self, error: Exception) -> bool:
        if not isinstance(error, CONNECTION_LOST):
            return False
        now = time.monotonic()
        if self._since is None:
            self._since = now
        return now - self._since < self.max_s


async def _through_one_outage(
    session: Callable[[], Awaitable[None]], stop: asyncio.Event, outage: _Outage, wait_max_s: float
) -> None:
    """Runs sessions, with backoff between failed ones, until one ends (stop) or makes
    progress and then loses its connection (_SessionLost, a new outage for the caller)."""
    try:
        async for attempt in stamina.retry_context(
            on=outage.tolerates, attempts=None, timeout=None, wait_max=wait_max_s
        ):
            with attempt:
                if not stop.is_set():
                    await session()
    except CONNECTION_LOST as error:
        log.error("relay.database_outage", max_outage_s=outage.max_s, error=str(error))
        raise DatabaseOutage(
            f"PostgreSQL unreachable for more than {outage.max_s:g} s"
            f" (LEDGER_RELAY_MAX_OUTAGE_S): {' '.join(str(error).split())}"
        ) from error


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return
