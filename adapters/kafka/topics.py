"""The event topic, created by the ledger with its settings, never by a broker's
auto-creation (which would give it the broker's defaults: too few partitions, no
`min.insync.replicas`).

`ensure_topic` is idempotent: it creates the topic when missing, and checks an existing one.
It never changes an existing topic: more partitions would move accounts to other partitions
(breaking per-account order for what is already on the topic), and configs are the
operator's to change. A topic that does not match the settings is refused (TopicMismatch)
with what differs; docs/operations.md says how to resolve it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import stamina
import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError, for_code

from adapters.settings import Settings

log = structlog.get_logger("topics")


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    min_insync_replicas: int

    @classmethod
    def from_settings(cls, settings: Settings) -> TopicSpec:
        return cls(
            settings.topic,
            settings.topic_partitions,
            settings.topic_replication_factor,
            settings.topic_min_insync_replicas,
        )

    def configs(self) -> dict[str, str]:
        return {
            "min.insync.replicas": str(self.min_insync_replicas),
            # An out-of-sync replica must never become leader: it would drop acknowledged
            # events.
            "unclean.leader.election.enable": "false",
        }


@dataclass(frozen=True)
class TopicState:
    partitions: int
    replication_factor: int
    configs: dict[str, str]


class TopicMismatch(RuntimeError):
    """The topic exists with settings other than the ledger's."""


async def ensure_topic(bootstrap: str, spec: TopicSpec, timeout_ms: int = 30_000) -> str:
    """Creates the topic if it is missing ("created"), else checks it ("exists")."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms)
    await admin.start()
    try:
        # list_topics, not describe_topics: a metadata request naming the topic would make a
        # broker with auto-creation on create it with its defaults.
        if spec.name not in await admin.list_topics() and await _create(admin, spec):
            log.info("topic.created", topic=spec.name, partitions=spec.partitions)
            return "created"
        problems = differences(spec, await describe(admin, spec.name))
        if problems:
            raise TopicMismatch(f"topic {spec.name}: " + "; ".join(problems))
        return "exists"
    finally:
        await admin.close()


async def _create(admin: AIOKafkaAdminClient, spec: TopicSpec) -> bool:
    """True if this call created it; False if someone else did meanwhile."""
    topic = NewTopic(
        spec.name, spec.partitions, spec.replication_factor, topic_configs=spec.configs()
    )
    response = (await admin.create_topics([topic])).to_object()
    [result] = response["topic_errors"]
    error = for_code(result["error_code"])
    if error is TopicAlreadyExistsError:
        return False
    if result["error_code"]:
        raise error(f"creating topic {spec.name}: {result['error_message']}")
    return True


async def describe(admin: AIOKafkaAdminClient, name: str, wait_s: float = 10.0) -> TopicState:
    """The topic as the brokers have it. Just after it was created (by us, another relay or
    an operator) a broker's metadata may not know it yet: asked again, for `wait_s`."""
    async for attempt in stamina.retry_context(
        on=UnknownTopicOrPartitionError, timeout=wait_s, wait_initial=0.05, wait_max=1.0
    ):
        with attempt:
            return await _describe_once(admin, name)
    raise AssertionError("unreachable: retry_context raises once it gives up")


async def _describe_once(admin: AIOKafkaAdminClient, name: str) -> TopicState:
    [topic] = await admin.describe_topics([name])
    if topic["error_code"]:
        raise for_code(topic["error_code"])(f"describing topic {name}")
    partitions: list[dict[str, Any]] = topic["partitions"]
    resource = ConfigResource(ConfigResourceType.TOPIC, name)
    [response] = await admin.describe_configs([resource])
    [described] = response.to_object()["resources"]
    configs = {e["config_names"]: e["config_value"] for e in described["config_entries"]}
    return TopicState(
        partitions=len(partitions),
        replication_factor=min((len(p["replicas"]) for p in partitions), default=0),
        configs=configs,
    )


def differences(spec: TopicSpec, state: TopicState) -> list[str]:
    """What makes an existing topic unfit: other partitions, weaker durability."""
    problems = []
    if state.partitions != spec.partitions:
        problems.append(
            f"{state.partitions} partitions, LEDGER_TOPIC_PARTITIONS says {spec.partitions}"
        )
    if state.replication_factor < spec.replication_factor:
        problems.append(
            f"replication factor {state.replication_factor},"
            f" LEDGER_TOPIC_REPLICATION_FACTOR says {spec.replication_factor}"
        )
    min_isr = int(state.configs.get("min.insync.replicas", "1"))
    if min_isr < spec.min_insync_replicas:
        problems.append(
            f"min.insync.replicas={min_isr},"
            f" LEDGER_TOPIC_MIN_INSYNC_REPLICAS says {spec.min_insync_replicas}"
        )
    if state.configs.get("unclean.leader.election.enable", "false") != "false":
        problems.append("unclean.leader.election.enable is on")
    return problems
