"""A plain Kafka consumer (no group, from the end of the topic) noting when each account's
event arrives: it splits the end-to-end lag into the relay's part and the projector's."""

from __future__ import annotations

import asyncio
import threading
import time
from uuid import UUID

from aiokafka import AIOKafkaConsumer, TopicPartition

READY_TIMEOUT_S = 60.0


class KafkaTap:
    def __init__(self, bootstrap: str, topic: str, partitions: int) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._partitions = partitions
        self.arrivals: dict[UUID, float] = {}
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="kafka-tap", daemon=True)

    def __enter__(self) -> KafkaTap:
        self._thread.start()
        if not self._ready.wait(READY_TIMEOUT_S) or self._error is not None:
            raise RuntimeError(f"Kafka tap not ready: {self._error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _main(self) -> None:
        try:
            asyncio.run(self._consume())
        except BaseException as error:
            self._error = error
            self._ready.set()
            raise

    async def _consume(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, group_id=None, enable_auto_commit=False
        )
        await consumer.start()
        try:
            assigned = [TopicPartition(self._topic, p) for p in range(self._partitions)]
            consumer.assign(assigned)
            await consumer.seek_to_end(*assigned)
            for tp in assigned:
                await consumer.position(tp)
            self._ready.set()
            while not self._stop.is_set():
                batches = await consumer.getmany(timeout_ms=20)
                now = time.perf_counter()
                for records in batches.values():
                    for record in records:
                        if record.key is not None:
                            self.arrivals.setdefault(UUID(record.key.decode()), now)
        finally:
            await consumer.stop()
