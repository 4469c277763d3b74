"""Describing the event topic just after it was created: a broker whose metadata does not
know it yet answers UNKNOWN_TOPIC_OR_PARTITION, and the check asks again instead of failing
the relay's start (seen in CI: list_topics had it, describe_topics did not yet)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.errors import UnknownTopicOrPartitionError

from adapters.kafka.topics import describe

KNOWN = {"error_code": 0, "partitions": [{"replicas": [1]}, {"replicas": [1]}]}
UNKNOWN = {"error_code": 3, "partitions": []}


class Admin:
    """An admin client whose brokers learn of the topic after `unknown_for` describes."""

    def __init__(self, unknown_for: int) -> None:
        self.unknown_for, self.asked = unknown_for, 0

    async def describe_topics(self, names: list[str]) -> list[dict[str, Any]]:
        self.asked += 1
        return [UNKNOWN if self.asked <= self.unknown_for else KNOWN]

    async def describe_configs(self, resources: list[Any]) -> list[Any]:
        entries = [{"config_names": "min.insync.replicas", "config_value": "1"}]
        return [SimpleNamespace(to_object=lambda: {"resources": [{"config_entries": entries}]})]


def test_a_topic_the_brokers_learn_of_a_moment_later_is_described() -> None:
    admin = Admin(unknown_for=2)
    state = asyncio.run(describe(admin, "billing.events"))
    assert (state.partitions, state.replication_factor, admin.asked) == (2, 1, 3)
    assert state.configs == {"min.insync.replicas": "1"}


def test_a_topic_that_stays_unknown_is_an_error_once_the_wait_is_over() -> None:
    admin = Admin(unknown_for=10**6)
    with pytest.raises(UnknownTopicOrPartitionError):
        asyncio.run(describe(admin, "billing.events", wait_s=0.3))
    assert admin.asked > 1
