"""A private Apache Kafka 4.x broker in KRaft combined mode on free loopback ports.

The jars come from Maven Central through tools/kafka/pom.xml into .kafka/libs
(scripts/setup-services fetches them). One JVM is both broker and controller (node.id=1).
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from tests.harness.ports import LOOPBACK, free_ports, port_is_open
from tests.harness.process import ServiceStartError, spawn, start_failure, stop, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_LIBS = REPO_ROOT / ".kafka" / "libs"
START_TIMEOUT_S = 60
FORMAT_TIMEOUT_S = 60
BROKER_JVM = ["-Xms256m", "-Xmx512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20"]
TOOL_JVM = ["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]
STORAGE_TOOL = "kafka.tools.StorageTool"
BROKER_MAIN = "kafka.Kafka"

BROKER_SETTINGS = {
    "process.roles": "broker,controller",
    "node.id": "1",
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "num.partitions": "4",
    "auto.create.topics.enable": "true",
    "group.initial.rebalance.delay.ms": "0",
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "4",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "transaction.state.log.num.partitions": "4",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "num.network.threads": "2",
    "num.io.threads": "4",
}

LOG4J2_CONFIG = """\
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.state.name = state.change.logger
logger.state.level = WARN
"""


@dataclass(frozen=True)
class KafkaServer:
    host: str
    port: int
    started_in_s: float

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class _Layout:
    work_dir: Path
    libs: Path

    @property
    def data(self) -> Path:
        return self.work_dir / "kraft-data"

    @property
    def properties(self) -> Path:
        return self.work_dir / "server.properties"

    @property
    def log4j2(self) -> Path:
        return self.work_dir / "log4j2.properties"

    @property
    def log(self) -> Path:
        return self.work_dir / "server.log"


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    candidate = Path(java_home, "bin", "java") if java_home else None
    if candidate is not None and candidate.exists():
        return str(candidate)
    java = shutil.which("java")
    if java is None:
        raise ServiceStartError("no `java` on PATH (Kafka needs Java 17+)")
    return java


def _check_libs(libs: Path) -> None:
    if not any(libs.glob("kafka_2.13-*.jar")):
        raise ServiceStartError(
            f"the Kafka jars are missing from {libs}: run scripts/setup-services"
        )


def _write_config(
    layout: _Layout, port: int, controller_port: int, overrides: Mapping[str, str]
) -> None:
    settings = {
        **BROKER_SETTINGS,
        **overrides,
        "listeners": f"PLAINTEXT://{LOOPBACK}:{port},CONTROLLER://{LOOPBACK}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{LOOPBACK}:{port}",
        "controller.quorum.voters": f"1@{LOOPBACK}:{controller_port}",
        "log.dirs": str(layout.data),
    }
    text = "".join(f"{key}={value}\n" for key, value in settings.items())
    layout.properties.write_text(text, encoding="utf-8")
    layout.log4j2.write_text(LOG4J2_CONFIG, encoding="utf-8")


def _java_argv(layout: _Layout, jvm: list[str], main: str, *args: str) -> list[str]:
    classpath = str(layout.libs / "*")
    logging = f"-Dlog4j2.configurationFile={layout.log4j2}"
    return [_java(), *jvm, "-Djava.awt.headless=true", logging, "-cp", classpath, main, *args]


def _random_cluster_id() -> str:
    """A base64url id; one starting with '-' would be read by the storage tool as an option."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode("ascii")
        if not cluster_id.startswith("-"):
            return cluster_id


def _format_storage(layout: _Layout) -> None:
    argv = _java_argv(
        layout, TOOL_JVM, STORAGE_TOOL, "format",
        *("-t", _random_cluster_id(), "-c", str(layout.properties)),
    )  # fmt: skip
    with layout.log.open("ab") as sink:
        result = subprocess.run(
            argv,
            cwd=layout.work_dir,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            timeout=FORMAT_TIMEOUT_S,
            check=False,
        )
    if result.returncode != 0:
        raise start_failure("Kafka", f"StorageTool format exited {result.returncode}", layout.log)


async def _has_broker(bootstrap: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
        return bool(cluster["brokers"])
    except (TimeoutError, KafkaError, OSError):
        return False
    finally:
        await admin.close()


def _broker_answers(port: int) -> bool:
    """Ask for cluster metadata; run in a thread of its own, so a caller's loop is no issue."""
    if not port_is_open(port):
        return False
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _has_broker(f"{LOOPBACK}:{port}")).result()


def _wait_for_broker(proc: subprocess.Popen[bytes], port: int, layout: _Layout) -> None:
    failure = wait_until(
        lambda: _broker_answers(port),
        timeout_s=START_TIMEOUT_S,
        alive=lambda: proc.poll() is None,
        interval_s=0.2,
    )
    if failure is not None:
        raise start_failure("Kafka", failure, layout.log)


@contextmanager
def running_kafka(
    work_dir: Path, libs: Path = DEFAULT_LIBS, overrides: Mapping[str, str] | None = None
) -> Iterator[KafkaServer]:
    """Start a private single-node KRaft Kafka on free 127.0.0.1 ports; stop it on exit.
    `overrides` replace broker settings (e.g. `auto.create.topics.enable`)."""
    began = time.monotonic()
    _check_libs(libs)
    work_dir = work_dir.resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    layout = _Layout(work_dir, libs.resolve())
    shutil.rmtree(layout.data, ignore_errors=True)
    port, controller_port = free_ports(2)
    _write_config(layout, port, controller_port, overrides or {})
    _format_storage(layout)
    proc = spawn(
        _java_argv(layout, BROKER_JVM, BROKER_MAIN, str(layout.properties)),
        layout.log,
        cwd=work_dir,
    )
    try:
        _wait_for_broker(proc, port, layout)
        yield replace(KafkaServer(LOOPBACK, port, 0.0), started_in_s=time.monotonic() - began)
    finally:
        stop(proc)
        shutil.rmtree(layout.data, ignore_errors=True)
