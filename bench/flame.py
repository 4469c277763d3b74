"""py-spy flame graphs of the month-end stages, one SVG each:

    python -m bench.flame [--accounts 3000] [--out docs/benchmarks/flame] [--label after]

On real PostgreSQL and Kafka: a fleet of accounts due for renewal is built (not sampled),
then each stage runs while `py-spy record` samples this process (100 Hz, GIL holders and
waiters alike: `--idle` off, so waiting shows as gaps): the billing run a page at a time
(`billing-run`), the relay publishing the whole store (`relay`), every projection caught up
from the store (`store-feed`), the `accounts` projection from Kafka (`projector`). The
files are `<out>/<stage>-<label>.svg`; docs/benchmarks.md links the recorded ones.

Uses only interfaces that existed before issue 16's changes, so the same file run in a
checkout of an older commit draws the "before" graphs."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psycopg

from adapters.bootstrap import Container, build
from adapters.kafka import projector
from adapters.kafka.relay import Relay, new_producer
from adapters.postgres.database import configured
from adapters.postgres.migrate import migrate
from adapters.settings import Settings
from bench.month_end import CTX, InstantProcessor, build_fleet
from bench.services import PARTITIONS, _start_kafka, create_topic
from commands import dunning
from commands.models import RunBilling
from projections.feed import catch_up
from tests.harness import running_postgres

PY_SPY = os.environ.get("PY_SPY", str(Path(sys.executable).with_name("py-spy")))


@contextmanager
def sampled(path: Path) -> Iterator[None]:
    """py-spy recording this process until the block ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    spy = subprocess.Popen(
        [PY_SPY, "record", "--pid", str(os.getpid()), "--rate", "100", "--format",
         "flamegraph", "--output", str(path), "--threads"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(1.0)  # py-spy attaches
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)


def _billing_run(container: Container, ids: list[Any]) -> None:
    dunning.run_billing(container.deps, RunBilling(account_ids=ids), CTX)


async def _relay(container: Container) -> None:
    conn = psycopg.connect(container.db.conninfo, autocommit=True)
    producer = new_producer(str(container.settings.kafka_bootstrap))
    await producer.start()
    try:
        relay = Relay(conn, container.reader.read_after, producer, container.settings.topic)
        position = 0
        while (published := await relay.publish_once(position)) is not None:
            position = published
    finally:
        await producer.stop()
        conn.close()


def _store_feed(container: Container) -> None:
    for projection in container.projections.values():
        catch_up(container.connection, projection, container.reader)


async def _projector(container: Container) -> None:
    accounts = container.projections["accounts"]
    with container.connection() as conn:
        conn.execute("TRUNCATE accounts")
        conn.execute("DELETE FROM projection_streams WHERE projection = 'accounts'")
        conn.commit()
    head = container.reader.head()
    broker = projector.build_broker(container, [accounts])
    async with broker:
        await broker.start()
        tracked = 0
        while tracked < head:
            await asyncio.sleep(0.2)
            tracked = _tracked_head(container)


def _tracked_head(container: Container) -> int:
    with container.connection() as conn:
        row = conn.execute(
            "SELECT coalesce(max(max_position), 0) FROM projection_positions"
            " WHERE projection = 'accounts'"
        ).fetchone()
    return int(row[0]) if row else 0


def run(accounts: int, out: Path, label: str) -> list[Path]:
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        pg = stack.enter_context(running_postgres(Path(tmp) / "postgres"))
        kafka = _start_kafka(stack, Path(tmp) / "kafka")
        migrate(configured(pg.dsn))
        topic = "flame.events"
        asyncio.run(create_topic(kafka.bootstrap, topic))
        settings = Settings(
            database_url=pg.dsn, kafka_bootstrap=kafka.bootstrap, topic=topic,
            topic_partitions=PARTITIONS,
        )  # fmt: skip
        container = stack.enter_context(build(settings))
        container.deps = _instant(container)
        ids = build_fleet(container.deps, accounts, 0)
        stages: list[tuple[str, Callable[[], object]]] = [
            ("billing-run", lambda: _billing_run(container, ids)),
            ("relay", lambda: asyncio.run(_relay(container))),
            ("store-feed", lambda: _store_feed(container)),
            ("projector", lambda: asyncio.run(_projector(container))),
        ]
        written = []
        for name, stage in stages:
            path = out / f"{name}-{label}.svg"
            print(f"flame: {name} -> {path}", file=sys.stderr, flush=True)
            with sampled(path):
                stage()
            written.append(path)
        return written


def _instant(container: Container) -> Any:
    return dataclasses.replace(container.deps, gateway=InstantProcessor())


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.flame", description=__doc__)
    parser.add_argument("--accounts", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks/flame"))
    parser.add_argument("--label", default="after")
    args = parser.parse_args()
    for path in run(args.accounts, args.out, args.label):
        print(path)


if __name__ == "__main__":
    main()
