"""Fixtures of the end-to-end tests: real PostgreSQL and Kafka from tests/harness, a fresh
migrated database and topic per test, and the ledger's own processes (`ledger relay`,
`ledger project`) run as subprocesses that a test can SIGKILL and restart.

A missing service or program fails the test loudly; nothing here ever skips.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from psycopg import sql

from adapters.postgres.database import configured
from adapters.postgres.migrate import migrate
from tests.harness import (
    KafkaServer,
    PostgresServer,
    outside_pytest_tmp,
    running_kafka,
    running_postgres,
)
from tests.harness.process import log_tail

REPO_ROOT = Path(__file__).resolve().parents[2]
TOPIC_PARTITIONS = 4
STOP_TIMEOUT_S = 30.0


@pytest.fixture(scope="session")
def e2e_postgres() -> Iterator[PostgresServer]:
    with outside_pytest_tmp() as work_dir, running_postgres(work_dir) as server:
        yield server


@pytest.fixture(scope="session")
def e2e_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaServer]:
    with running_kafka(tmp_path_factory.mktemp("e2e-kafka")) as server:
        yield server


@dataclass(frozen=True)
class LedgerEnv:
    """Where one test's ledger lives: its own database, topic and working folder."""

    database_url: str
    kafka_bootstrap: str
    topic: str
    work_dir: Path

    def process_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "LEDGER_DATABASE_URL": self.database_url,
            "LEDGER_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "LEDGER_TOPIC": self.topic,
            "LEDGER_TOPIC_PARTITIONS": str(TOPIC_PARTITIONS),
            "LEDGER_LOG_JSON": "true",
            "LEDGER_DATA_DIR": str(self.work_dir / "data"),
            # Unbuffered, so every log line is in the file before a SIGKILL lands.
            "PYTHONUNBUFFERED": "1",
            # Plain tracebacks in the logs (typer's pretty ones are boxes of locals).
            "TYPER_STANDARD_TRACEBACK": "1",
        }


def _create_database(server: PostgresServer, name: str) -> str:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return f"postgresql://{server.user}:{server.password}@{server.host}:{server.port}/{name}"


def _drop_database(server: PostgresServer, name: str) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


async def _create_topic(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(topic, num_partitions=TOPIC_PARTITIONS, replication_factor=1)]
        )
    finally:
        await admin.close()


@pytest.fixture
def ledger_env(
    e2e_postgres: PostgresServer, e2e_kafka: KafkaServer, tmp_path: Path
) -> Iterator[LedgerEnv]:
    """A fresh database (migrated) and a fresh topic of TOPIC_PARTITIONS partitions."""
    suffix = uuid.uuid4().hex[:12]
    dbname = f"ledger_e2e_{suffix}"
    url = _create_database(e2e_postgres, dbname)
    try:
        migrate(configured(url))
        topic = f"billing.events.e2e-{suffix}"
        asyncio.run(_create_topic(e2e_kafka.bootstrap, topic))
        yield LedgerEnv(url, e2e_kafka.bootstrap, topic, tmp_path)
    finally:
        _drop_database(e2e_postgres, dbname)


def ledger_program() -> Path:
    """The `ledger` console script of this environment (cli/main has no __main__ guard)."""
    program = Path(sys.executable).parent / "ledger"
    if not program.exists():
        raise RuntimeError(f"no `ledger` console script beside {sys.executable}: run `uv sync`")
    return program


class LedgerProcess:
    """One `ledger <command>` subprocess in its own process group, logging to a file.

    `kill()` SIGKILLs the whole group; `start()` runs it again, appending to the same log.
    Every exit is recorded, so a test can tell its own kills from crashes.
    """

    def __init__(self, command: str, env: LedgerEnv) -> None:
        self.command = command
        self.log = env.work_dir / f"{command}.log"
        self._env = env.process_env()
        self._cwd = env.work_dir
        self._proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0
        self.exit_codes: list[int] = []
        self.started_at = 0.0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        if self.running():
            raise RuntimeError(f"ledger {self.command} is already running")
        with self.log.open("ab") as sink:
            self._proc = subprocess.Popen(
                [str(ledger_program()), self.command],
                cwd=self._cwd,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        self.started_at = time.monotonic()

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def crashed(self) -> bool:
        """It exited by itself since its last start (not through `kill()` or `stop()`)."""
        return self._proc is not None and self._proc.poll() is not None and not self._reaped

    @property
    def _reaped(self) -> bool:
        return len(self.exit_codes) == self.starts

    def kill(self) -> int:
        """SIGKILL the process group; returns the exit code (-9 when our signal ended it)."""
        proc = self._require()
        self._signal(signal.SIGKILL)
        code = proc.wait(timeout=STOP_TIMEOUT_S)
        self.exit_codes.append(code)
        self.kills += 1
        return code

    def stop(self) -> int:
        """SIGTERM (a graceful stop), then SIGKILL if it lingers; returns the exit code."""
        proc = self._require()
        if proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                proc.wait(timeout=STOP_TIMEOUT_S)
        code = proc.returncode
        if not self._reaped:
            self.exit_codes.append(code)
        return code

    def tail(self, lines: int = 80) -> str:
        return f"--- last lines of {self.log} ---\n{log_tail(self.log, lines)}"

    def _require(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            raise RuntimeError(f"ledger {self.command} was never started")
        return self._proc

    def _signal(self, sig: signal.Signals) -> None:
        if self._proc is not None and self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, sig)


@pytest.fixture
def ledger_process(ledger_env: LedgerEnv) -> Iterator[Callable[[str], LedgerProcess]]:
    """Makes `ledger <command>` processes for this test; any still running at the end are
    stopped (SIGTERM, then SIGKILL)."""
    made: list[LedgerProcess] = []

    def make(command: str) -> LedgerProcess:
        process = LedgerProcess(command, ledger_env)
        made.append(process)
        return process

    yield make
    for process in made:
        if process.running():
            process.stop()
