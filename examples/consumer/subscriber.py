"""A downstream subscriber of `billing.events` (aiokafka), the way the contract asks
(docs/contract/COMPATIBILITY.md):

* every message is validated against its schema before it is used; an invalid one is
  recorded as rejected and passed over, never half-applied;
* event types it does not know are skipped; a known type in a version its copy of the
  contract lacks stops it (ContractOutdated) before anything is committed;
* offsets are committed only after the view's transaction has committed, per partition:
  a crash between the two redelivers, and the view skips what it already applied;
* `rebuild` forgets the view and reads the topic again from its start.

Run: `python -m examples.consumer --bootstrap localhost:9092 --contract docs/contract
--db view.sqlite [--rebuild]`."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord

from examples.consumer import view
from examples.consumer.contract import Contract


@dataclass
class Progress:
    read: int = 0
    applied: int = 0
    skipped: int = 0  # applied before, or of an event type this consumer does not know
    rejected: int = 0


class _FromTheStart(ConsumerRebalanceListener):  # type: ignore[misc]
    """Rewinds every partition it is given to the topic's start (for a rebuild)."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: Collection[TopicPartition]) -> None:
        return None  # nothing pending: offsets are committed after every batch

    async def on_partitions_assigned(self, assigned: Collection[TopicPartition]) -> None:
        if assigned:
            await self._consumer.seek_to_beginning(*assigned)


class Subscriber:
    def __init__(
        self, bootstrap: str, topic: str, group: str, contract: Contract, db: sqlite3.Connection
    ) -> None:
        self.bootstrap, self.topic, self.group = bootstrap, topic, group
        self.contract = contract
        self.db = db

    async def catch_up(self, idle_ms: int = 3000, from_start: bool = False) -> Progress:
        """Consumes until no message arrives for `idle_ms`: a test's or a batch job's run
        (a service would loop for ever)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        if from_start:  # a rebalance during a rebuild rewinds again: the view skips repeats
            consumer.subscribe([self.topic], listener=_FromTheStart(consumer))
        else:
            consumer.subscribe([self.topic])
        await consumer.start()
        progress = Progress()
        try:
            while batch := await consumer.getmany(timeout_ms=idle_ms):
                for partition, records in batch.items():
                    self._handle(records, progress)
                    await consumer.commit({partition: records[-1].offset + 1})
        finally:
            await consumer.stop()
        return progress

    async def rebuild(self, idle_ms: int = 3000) -> Progress:
        view.reset(self.db)
        return await self.catch_up(idle_ms, from_start=True)

    def _handle(self, records: list[ConsumerRecord[Any, Any]], progress: Progress) -> None:
        with view.transaction(self.db):
            for record in records:
                progress.read += 1
                message, reason = self._checked(record)
                if message is None:
                    view.reject(self.db, record.topic, record.partition, record.offset, reason)
                    progress.rejected += 1
                elif self.contract.knows(message["event_type"]) and view.apply(self.db, message):
                    progress.applied += 1
                else:
                    progress.skipped += 1

    def _checked(self, record: ConsumerRecord[Any, Any]) -> tuple[dict[str, Any] | None, str]:
        try:
            message = json.loads(record.value)
        except (TypeError, ValueError) as error:
            return None, f"not JSON: {error}"
        if not isinstance(message, dict):
            return None, "not a JSON object"
        errors = self.contract.errors(message)
        return (None, "; ".join(errors)) if errors else (message, "")


def open_subscriber(
    bootstrap: str, topic: str, group: str, contract_dir: Path, db_path: Path
) -> Subscriber:
    return Subscriber(bootstrap, topic, group, Contract(contract_dir), view.connect(db_path))
