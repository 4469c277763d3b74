"""The harness starts real services on loopback ports, and each does a real round trip."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.harness import (
    KafkaServer,
    PostgresServer,
    RedisServer,
    ServiceStartError,
    outside_pytest_tmp,
    running_kafka,
    running_postgres,
    running_redis,
)
from tests.harness.ports import port_is_open

TIMEOUT_S = 30


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with outside_pytest_tmp() as work_dir, running_postgres(work_dir) as server:
        yield server


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="module")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaServer]:
    with running_kafka(tmp_path_factory.mktemp("kafka")) as server:
        yield server


def test_postgres_answers_over_tcp_loopback(postgres: PostgresServer) -> None:
    with psycopg.connect(postgres.dsn) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        assert conn.info.host == "127.0.0.1"
        assert conn.execute("SELECT inet_server_port()").fetchone() == (postgres.port,)
        assert conn.execute("SHOW max_connections").fetchone() == ("200",)
    assert postgres.dsn == f"postgresql://postgres:@127.0.0.1:{postgres.port}/postgres"


def test_redis_set_then_get(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    try:
        assert client.set("harness:key", "value")
        assert client.get("harness:key") == b"value"
    finally:
        client.close()


async def _create_topic(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()


async def _produce(bootstrap: str, topic: str, key: bytes, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


async def _consume_one(bootstrap: str, topic: str) -> tuple[bytes | None, bytes | None]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"harness-{uuid.uuid4()}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), TIMEOUT_S)
        return record.key, record.value
    finally:
        await consumer.stop()


async def test_kafka_produce_then_consume(kafka: KafkaServer) -> None:
    topic = f"harness-{uuid.uuid4().hex}"
    await _create_topic(kafka.bootstrap, topic)
    await _produce(kafka.bootstrap, topic, b"account-1", b"payment-recorded")
    assert await _consume_one(kafka.bootstrap, topic) == (b"account-1", b"payment-recorded")


def test_each_service_reports_its_start_time(
    postgres: PostgresServer, redis_server: RedisServer, kafka: KafkaServer
) -> None:
    for server in (postgres, redis_server, kafka):
        assert 0 < server.started_in_s < 120
        print(f"{type(server).__name__} started in {server.started_in_s:.2f} s")


def test_redis_stops_on_exit(tmp_path: Path) -> None:
    with running_redis(tmp_path) as server:
        assert port_is_open(server.port)
    assert not port_is_open(server.port)


def test_kafka_without_jars_says_to_run_setup(tmp_path: Path) -> None:
    with (
        pytest.raises(ServiceStartError, match="scripts/setup-services"),
        running_kafka(tmp_path / "work", libs=tmp_path / "no-libs"),
    ):
        pass
