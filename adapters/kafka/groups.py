"""What Kafka says of a projection's consumer group: its state, members and lag."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import stamina
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import GroupCoordinatorNotAvailableError, NotCoordinatorForGroupError


@dataclass(frozen=True)
class GroupStatus:
    group_id: str
    state: str  # Stable, Empty, PreparingRebalance, CompletingRebalance, Dead
    members: int
    committed: int  # messages the group has committed, over all partitions
    lag: int  # end offsets minus committed offsets (partitions never committed: from 0)


def describe_groups(bootstrap: str, topic: str, group_ids: list[str]) -> dict[str, GroupStatus]:
    return asyncio.run(describe(bootstrap, topic, group_ids))


async def describe(bootstrap: str, topic: str, group_ids: list[str]) -> dict[str, GroupStatus]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await admin.start()
    await consumer.start()
    try:
        ends = await _end_offsets(admin, consumer, topic)
        statuses = {}
        for group_id in group_ids:
            described, committed = await _group(admin, group_id)
            statuses[group_id] = _status(group_id, described, committed, ends)
        return statuses
    finally:
        await consumer.stop()
        await admin.close()


async def _group(
    admin: AIOKafkaAdminClient, group_id: str
) -> tuple[tuple[object, ...] | None, dict[TopicPartition, object]]:
    # A new cluster has no coordinator until its offsets topic exists: ask again, briefly.
    async for attempt in stamina.retry_context(
        on=(GroupCoordinatorNotAvailableError, NotCoordinatorForGroupError), timeout=20
    ):
        with attempt:
            described = await admin.describe_consumer_groups([group_id])
            committed = await admin.list_consumer_group_offsets(group_id)
    groups = [g for response in described for g in response.groups if g[1] == group_id]
    return (groups[0] if groups else None), committed


async def _end_offsets(
    admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer, topic: str
) -> dict[TopicPartition, int]:
    described = await admin.describe_topics([topic])
    numbers = sorted(
        p["partition"] for t in described if t["topic"] == topic for p in t["partitions"]
    )
    tps = [TopicPartition(topic, n) for n in numbers]
    return dict(await consumer.end_offsets(tps)) if tps else {}


def _status(
    group_id: str,
    described: tuple[object, ...] | None,
    committed: dict[TopicPartition, object],
    ends: dict[TopicPartition, int],
) -> GroupStatus:
    offsets = {tp: int(getattr(meta, "offset", 0)) for tp, meta in committed.items() if tp in ends}
    state = str(described[2]) if described else "Unknown"
    members = len(described[5]) if described else 0  # type: ignore[arg-type]
    lag = sum(max(0, end - offsets.get(tp, 0)) for tp, end in ends.items())
    return GroupStatus(group_id, state, members, sum(offsets.values()), lag)
