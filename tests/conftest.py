"""Shared fixtures: real services started once per session on loopback ports, a fresh,
migrated database per test (cloned from a migrated template, so each test starts empty), and
the fixed clock and scripted fake gateway that unit and integration tests share."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from uuid import uuid4

import psycopg
import pytest
import structlog

from adapters import logging as ledger_logging
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
# A CLI run in process configures logging; with caching on, a logger first used after that
# would ignore every later test's structlog `capture_logs`.
ledger_logging.CACHE_LOGGERS = False
_db_numbers = itertools.count()


@pytest.fixture(autouse=True)
def structlog_as_found() -> Iterator[None]:
    """A test that configures logging (a CLI run in process) leaves structlog as it found
    it: a filtering level left behind would hide a later test's info lines from its
    `capture_logs`."""
    before = structlog.get_config()
    handlers = list(logging.getLogger().handlers)
    yield
    structlog.configure(**before)
    logging.getLogger().handlers = handlers  # and the stdlib handler it added, gone


@pytest.fixture(scope="session", autouse=True)
def no_default_data_dir() -> Iterator[None]:
    """A run that falls back to the embedded default never touches the developer's own data
    directory (~/.local/share/billing-ledger): LEDGER_DATA_DIR points at a throwaway one."""
    with outside_pytest_tmp("ledger-default-") as work_dir, pytest.MonkeyPatch.context() as env:
        env.setenv("LEDGER_DATA_DIR", str(work_dir))
        yield


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
