"""Shared fixtures: real services started once per session on loopback ports, a fresh,
migrated database per test (cloned from a migrated template, so each test starts empty), and
the fixed clock and scripted fake gateway that unit and integration tests share."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from uuid import uuid4

import psycopg
import pytest

from adapters.bootstrap import Container, build
from adapters.postgres.database import configured
from adapters.postgres.migrate import migrate
from adapters.settings import Settings
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway
from tests.harness import (
    KafkaServer,
    PostgresServer,
    RedisServer,
    outside_pytest_tmp,
    running_kafka,
    running_postgres,
    running_redis,
)

TEMPLATE_DB = "ledger_template"
_db_numbers = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    with outside_pytest_tmp() as work_dir, running_postgres(work_dir) as server:
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")
        migrate(configured(_dsn(server, TEMPLATE_DB)))
        yield server


@pytest.fixture(scope="session")
def kafka_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaServer]:
    with running_kafka(tmp_path_factory.mktemp("kafka")) as server:
        yield server


@pytest.fixture(scope="session")
def redis_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def database_url(pg_server: PostgresServer) -> str:
    name = f"t_{next(_db_numbers)}_{uuid4().hex[:8]}"
    with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    return _dsn(pg_server, name)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def gateway(request: pytest.FixtureRequest) -> FakeGateway:
    """The scripted fake gateway, or the subclass a module names:
    `pytestmark = pytest.mark.parametrize("gateway", [LostAnswers], indirect=True)`."""
    fake: type[FakeGateway] = getattr(request, "param", FakeGateway)
    return fake()


@pytest.fixture
def container(database_url: str, clock: FixedClock) -> Iterator[Container]:
    settings = Settings(database_url=database_url, kafka_bootstrap=None, pool_size=4)
    built = build(settings, clock=clock)
    yield built
    built.close()


def _dsn(server: PostgresServer, dbname: str) -> str:
    return f"postgresql://{server.user}:{server.password}@{server.host}:{server.port}/{dbname}"
