"""Relay throughput: the store's whole log, position 0 to head, published to Kafka."""

from __future__ import annotations

import asyncio
import time

import psycopg

from adapters.bootstrap import Container
from adapters.kafka import codec
from adapters.kafka.relay import Relay, new_producer
from bench.measure import Stopwatch, Throughput
from ledger.envelope import EventEnvelope

STORE_PAGE = 1000


class _TimedReader:
    """The relay's read_after, timed: how much of the relay's time is the store side."""

    def __init__(self, container: Container) -> None:
        self._read_after = container.reader.read_after
        self.seconds = 0.0
        self.events = 0

    def __call__(self, position: int, limit: int) -> list[EventEnvelope]:
        began = time.perf_counter()
        envelopes = self._read_after(position, limit)
        self.seconds += time.perf_counter() - began
        self.events += len(envelopes)
        return envelopes


async def relay_all(container: Container, bootstrap: str) -> Throughput:
    """`Relay.publish_once` from position 0 until idle, with `new_producer` (acks=all)."""
    conn = psycopg.connect(container.db.conninfo, autocommit=True)
    producer = new_producer(bootstrap)
    await producer.start()
    reader = _TimedReader(container)
    try:
        relay = Relay(conn, reader, producer, container.settings.topic)
        watch = Stopwatch()
        position = 0
        while (published := await relay.publish_once(position)) is not None:
            position = published
        seconds, busy = watch.seconds, watch.cpu()
    finally:
        await producer.stop()
        conn.close()
    return Throughput(
        key="relay",
        stage="relay: store -> Kafka",
        events=reader.events,
        seconds=seconds,
        cpu=busy,
        notes="Relay.publish_once, batches of 2,000, acks=all, idempotent",
        extra={"read_after_s": round(reader.seconds, 3), "position": position},
    )


def read_store(container: Container) -> tuple[Throughput, Throughput]:
    """The store side alone: raw notification pages, then pages decoded to envelopes."""
    recorder = container.app.recorder
    raw = Stopwatch()
    position = events = 0
    while page := recorder.select_notifications(position, STORE_PAGE, inclusive_of_start=False):
        position, events = page[-1].id, events + len(page)
    raw_s, raw_busy = raw.seconds, raw.cpu()
    decoded = Stopwatch()
    position = 0
    while envelopes := container.reader.read_after(position, STORE_PAGE):
        position = envelopes[-1].position
    decoded_s, decoded_busy = decoded.seconds, decoded.cpu()
    return (
        Throughput("store_read", "store read: select_notifications", events, raw_s, raw_busy,
                   notes=f"pages of {STORE_PAGE:,}, stored events only"),
        Throughput("store_read_envelopes", "store read: envelopes", events, decoded_s,
                   decoded_busy, notes="StoreReader.read_after: decoded to envelopes"),
    )  # fmt: skip


async def produce_raw(container: Container, bootstrap: str, topic: str) -> Throughput:
    """aiokafka alone: the relay's encoded messages sent to another topic, same producer.
    How long the encoding took (codec, as the relay does it) goes in `extra`."""
    envelopes: list[EventEnvelope] = []
    while page := container.reader.read_after(envelopes[-1].position if envelopes else 0, 1000):
        envelopes += page
    encoding = Stopwatch()
    values = [(codec.value_of(e), codec.key_of(e), codec.headers_of(e)) for e in envelopes]
    encode_s = encoding.seconds
    producer = new_producer(bootstrap)
    await producer.start()
    try:
        watch = Stopwatch()
        for start in range(0, len(values), 2000):
            batch = values[start : start + 2000]
            futures = [await producer.send(topic, value=v, key=k, headers=h) for v, k, h in batch]
            await asyncio.gather(*futures)
        seconds, busy = watch.seconds, watch.cpu()
    finally:
        await producer.stop()
    mean_size = sum(len(v) for v, _, _ in values) / max(1, len(values))
    return Throughput(
        key="kafka_produce",
        stage="aiokafka produce (pre-encoded)",
        events=len(values),
        seconds=seconds,
        cpu=busy,
        notes=f"new_producer, batches of 2,000, {mean_size:.0f}-byte values",
        extra={"codec_encode_s": round(encode_s, 3)},
    )
