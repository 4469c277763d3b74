"""Real PostgreSQL and Kafka from the test harness, a migrated schema and the container."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from adapters.bootstrap import Container, build
from adapters.postgres.database import configured
from adapters.postgres.migrate import migrate
from adapters.settings import Settings
from bench.cpu import run_marker
from bench.measure import say
from tests.harness import KafkaServer, ServiceStartError, running_kafka, running_postgres

PARTITIONS = 4
KAFKA_ATTEMPTS = 3
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


@dataclass(frozen=True)
class Services:
    dsn: str
    bootstrap: str
    topic: str
    work_dir: Path
    started_in_s: float

    def settings(self) -> Settings:
        return Settings(
            database_url=self.dsn,
            kafka_bootstrap=self.bootstrap,
            topic=self.topic,
            topic_partitions=PARTITIONS,
        )


@contextmanager
def running_services(durable: bool) -> Iterator[Services]:
    with tempfile.TemporaryDirectory(prefix=run_marker()) as tmp, ExitStack() as stack:
        work_dir = Path(tmp)
        pg = stack.enter_context(running_postgres(work_dir / "postgres"))
        kafka = _start_kafka(stack, work_dir / "kafka")
        say(f"postgres in {pg.started_in_s:.1f}s, kafka in {kafka.started_in_s:.1f}s")
        if durable:
            _make_durable(pg.dsn)
        migrate(configured(pg.dsn))
        topic = f"bench.events.{uuid.uuid4().hex[:8]}"
        started_in_s = pg.started_in_s + kafka.started_in_s
        yield Services(pg.dsn, kafka.bootstrap, topic, work_dir, started_in_s)


@dataclass(frozen=True)
class Database:
    dsn: str
    work_dir: Path
    started_in_s: float


@contextmanager
def running_database(durable: bool) -> Iterator[Database]:
    """PostgreSQL alone (migrated), for the stages that need no Kafka."""
    with tempfile.TemporaryDirectory(prefix=run_marker()) as tmp:
        work_dir = Path(tmp)
        with running_postgres(work_dir / "postgres") as pg:
            say(f"postgres in {pg.started_in_s:.1f}s")
            if durable:
                _make_durable(pg.dsn)
            migrate(configured(pg.dsn))
            yield Database(pg.dsn, work_dir, pg.started_in_s)


@contextmanager
def container_for(services: Services) -> Iterator[Container]:
    container = build(services.settings())
    try:
        yield container
    finally:
        container.close()


async def create_topic(bootstrap: str, topic: str) -> None:
    """Created up front, so no stage pays for auto-creation and metadata waits."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)]
        )
    finally:
        await admin.close()


def _make_durable(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name, value in DURABLE.items():
            conn.execute(f"ALTER SYSTEM SET {name} = {value}")
        conn.execute("SELECT pg_reload_conf()")


def _start_kafka(stack: ExitStack, work_dir: Path) -> KafkaServer:
    """Retries: the harness's random cluster id sometimes starts with '-', which the
    StorageTool's argument parser takes for an option (about 1 start in 64)."""
    for attempt in range(1, KAFKA_ATTEMPTS + 1):
        try:
            return stack.enter_context(running_kafka(work_dir))
        except ServiceStartError as error:
            if attempt == KAFKA_ATTEMPTS:
                raise
            say(f"kafka did not start (attempt {attempt}), retrying: {str(error)[:200]}")
    raise AssertionError("unreachable")
