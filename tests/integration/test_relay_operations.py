"""The relay in operation: it creates its topic (on a broker that never auto-creates one),
survives PostgreSQL restarts and terminated sessions, and gives up only after the
configured outage. `ledger relay` runs as a real process; PostgreSQL is a private server of
this module, so stopping it disturbs no other test."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from typer.testing import CliRunner

from adapters.bootstrap import build
from adapters.cli.main import app
from adapters.kafka.topics import TopicMismatch, TopicSpec, ensure_topic
from adapters.postgres.database import configured
from adapters.postgres.migrate import migrate
from adapters.settings import Settings
from commands import accounts
from tests.fakes.builders import open_cmd, service_ctx
from tests.harness import KafkaServer, PostgresServer, outside_pytest_tmp, running_postgres
from tests.harness.kafka import running_kafka
from tests.harness.postgres import postgres_stopped

LEDGER = Path(sys.executable).parent / "ledger"
PARTITIONS = 3
WAIT_S = 90


@pytest.fixture(scope="module")
def strict_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaServer]:
    """A broker that refuses to create topics on demand."""
    overrides = {"auto.create.topics.enable": "false"}
    with running_kafka(tmp_path_factory.mktemp("strict-kafka"), overrides=overrides) as server:
        yield server


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[tuple[PostgresServer, Path]]:
    with outside_pytest_tmp() as work_dir, running_postgres(work_dir) as server:
        yield server, work_dir


@pytest.fixture
def database_url(own_postgres: tuple[PostgresServer, Path]) -> str:
    server, _ = own_postgres
    name = f"relay_{uuid4().hex[:10]}"
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = f"postgresql://{server.user}@{server.host}:{server.port}/{name}"
    migrate(configured(url))
    return url


def spec(topic: str, partitions: int = PARTITIONS) -> TopicSpec:
    return TopicSpec(topic, partitions, replication_factor=1, min_insync_replicas=1)


async def topic_state(bootstrap: str, topic: str) -> tuple[int, dict[str, dict[str, Any]]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
        resource = ConfigResource(ConfigResourceType.TOPIC, topic)
        [response] = await admin.describe_configs([resource])
        [entries] = [r["config_entries"] for r in response.to_object()["resources"]]
        return len(described["partitions"]), {e["config_names"]: e for e in entries}
    finally:
        await admin.close()


async def test_the_topic_is_created_with_its_settings_once(strict_kafka: KafkaServer) -> None:
    topic = f"billing.events.{uuid4().hex[:8]}"
    assert await ensure_topic(strict_kafka.bootstrap, spec(topic)) == "created"
    partitions, configs = await topic_state(strict_kafka.bootstrap, topic)
    assert partitions == PARTITIONS
    # Set on the topic itself (not inherited from the broker's defaults).
    assert configs["min.insync.replicas"]["config_value"] == "1"
    assert configs["unclean.leader.election.enable"]["config_value"] == "false"
    assert configs["min.insync.replicas"]["config_source"] == 1  # DYNAMIC_TOPIC_CONFIG
    assert await ensure_topic(strict_kafka.bootstrap, spec(topic)) == "exists"


async def test_a_topic_that_differs_from_the_settings_is_refused(strict_kafka: KafkaServer) -> None:
    topic = f"billing.events.{uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=strict_kafka.bootstrap)
    await admin.start()
    try:
        config = {"unclean.leader.election.enable": "true"}
        await admin.create_topics([NewTopic(topic, 1, 1, topic_configs=config)])
    finally:
        await admin.close()
    with pytest.raises(TopicMismatch) as refused:
        await ensure_topic(strict_kafka.bootstrap, spec(topic))
    assert f"1 partitions, LEDGER_TOPIC_PARTITIONS says {PARTITIONS}" in str(refused.value)
    assert "unclean.leader.election.enable is on" in str(refused.value)
    partitions, configs = await topic_state(strict_kafka.bootstrap, topic)  # left as it was
    assert (partitions, configs["unclean.leader.election.enable"]["config_value"]) == (1, "true")


def test_the_ensure_topic_command(
    strict_kafka: KafkaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic = f"billing.events.{uuid4().hex[:8]}"
    monkeypatch.setenv("LEDGER_KAFKA_BOOTSTRAP", strict_kafka.bootstrap)
    monkeypatch.setenv("LEDGER_TOPIC", topic)
    monkeypatch.setenv("LEDGER_TOPIC_PARTITIONS", "2")
    runner = CliRunner()
    created = runner.invoke(app, ["ensure-topic"])
    assert created.exit_code == 0, created.output
    assert f"topic {topic}: created" in created.stdout
    assert runner.invoke(app, ["ensure-topic"]).stdout.strip() == f"topic {topic}: exists"
    monkeypatch.setenv("LEDGER_TOPIC_PARTITIONS", "5")
    mismatch = runner.invoke(app, ["ensure-topic"])
    assert mismatch.exit_code == 1
    assert mismatch.stderr.startswith(f"error: topic {topic}: 2 partitions")


class RelayProcess:
    def __init__(self, database_url: str, kafka: KafkaServer, topic: str, log: Path, **env: str):
        self.log = log
        settings = {
            "LEDGER_DATABASE_URL": database_url,
            "LEDGER_KAFKA_BOOTSTRAP": kafka.bootstrap,
            "LEDGER_TOPIC": topic,
            "LEDGER_TOPIC_PARTITIONS": str(PARTITIONS),
            "LEDGER_LOG_JSON": "true",
            **env,
        }
        base = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
        with log.open("ab") as sink:
            self.proc = subprocess.Popen(
                [str(LEDGER), "relay"],
                env={**base, **settings},
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> int:
        if self.running():
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def write_accounts(database_url: str, count: int) -> None:
    with build(Settings(database_url=database_url, kafka_bootstrap=None, pool_size=2)) as c:
        for i in range(count):
            accounts.open_account(c.deps, open_cmd(f"Relay {i}"), service_ctx())


def store_event_ids(database_url: str) -> set[str]:
    with build(Settings(database_url=database_url, kafka_bootstrap=None, pool_size=2)) as c:
        return {str(env.event_id) for env in c.reader.read_after(0, 100_000)}


def wait_relayed(database_url: str, relay: RelayProcess) -> None:
    """Until the relay's stored position reaches the store's head (the relay still up)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        assert relay.running(), relay.tail()
        with contextlib.suppress(psycopg.OperationalError):  # PostgreSQL may be restarting
            with psycopg.connect(database_url, connect_timeout=5) as conn:
                row = conn.execute(
                    "SELECT (SELECT coalesce(max(notification_id), 0) FROM ledger_events),"
                    " (SELECT coalesce(max(position), 0) FROM relay_positions)"
                ).fetchone()
            if row and row[0] == row[1]:
                return
        assert time.monotonic() < deadline, relay.tail()
        time.sleep(0.2)


async def topic_event_ids(bootstrap: str, topic: str) -> Counter[str]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        seen: Counter[str] = Counter()
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for record in records:
                    seen[dict(record.headers)["event-id"].decode()] += 1
        return seen
    finally:
        await consumer.stop()


def terminate_backends(server: PostgresServer, database_url: str) -> int:
    dbname = database_url.rsplit("/", 1)[1]
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (dbname,),
        ).fetchall()
    return len(rows)


def test_the_relay_creates_its_topic_and_outlives_postgres_restarts(
    own_postgres: tuple[PostgresServer, Path],
    strict_kafka: KafkaServer,
    database_url: str,
    tmp_path: Path,
) -> None:
    server, pg_dir = own_postgres
    topic = f"billing.events.{uuid4().hex[:8]}"
    write_accounts(database_url, 20)
    relay = RelayProcess(database_url, strict_kafka, topic, tmp_path / "relay.log")
    try:
        wait_relayed(database_url, relay)
        assert asyncio.run(topic_state(strict_kafka.bootstrap, topic))[0] == PARTITIONS

        with postgres_stopped(pg_dir):
            time.sleep(3)  # longer than the recorder's own retries (about 2 s)
        write_accounts(database_url, 20)
        wait_relayed(database_url, relay)

        assert terminate_backends(server, database_url) >= 1
        write_accounts(database_url, 20)
        wait_relayed(database_url, relay)
        assert relay.running(), relay.tail()
    finally:
        assert relay.stop() == 0, relay.tail()

    on_topic = asyncio.run(topic_event_ids(strict_kafka.bootstrap, topic))
    stored = store_event_ids(database_url)
    assert len(stored) >= 60
    assert set(on_topic) == stored  # nothing lost, nothing foreign
    assert on_topic.total() <= len(stored) + 2 * 2000  # at most a batch again per disruption
    assert "relay.connection_lost" in relay.tail()


def test_the_relay_gives_up_after_the_configured_outage(
    own_postgres: tuple[PostgresServer, Path],
    strict_kafka: KafkaServer,
    database_url: str,
    tmp_path: Path,
) -> None:
    _, pg_dir = own_postgres
    topic = f"billing.events.{uuid4().hex[:8]}"
    relay = RelayProcess(
        database_url, strict_kafka, topic, tmp_path / "relay.log", LEDGER_RELAY_MAX_OUTAGE_S="4"
    )
    write_accounts(database_url, 1)
    try:
        wait_relayed(database_url, relay)  # relaying, past its start-up
        with postgres_stopped(pg_dir):
            began = time.monotonic()
            code = relay.proc.wait(timeout=60)
            waited = time.monotonic() - began
    finally:
        relay.stop()
    assert code == 1, relay.tail()
    assert 4 <= waited < 30
    assert "PostgreSQL unreachable for more than 4 s" in relay.tail()
    assert "Traceback" not in relay.tail()
