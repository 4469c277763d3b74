"""One run of every stage, in order, on the same services and the same growing store."""

from __future__ import annotations

import asyncio
import os
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from adapters.bootstrap import Container
from bench import (
    appends,
    batch_size,
    charts,
    copy_reference,
    lag,
    projection_throughput,
    quiet,
    relay_throughput,
    report,
)
from bench.machine import describe
from bench.measure import Stopwatch, Throughput, say
from bench.pipeline import running_pipeline
from bench.services import Services, container_for, create_topic, running_services
from bench.workload import stored_rows


@dataclass(frozen=True)
class Options:
    events: int
    chunk: int
    rate: float
    lag_seconds: float
    durable: bool
    write_docs: bool
    wait_quiet_s: float
    batch_sizes: tuple[int, ...] = batch_size.SIZES


def _copy(services: Services, container: Container, options: Options) -> list[Throughput]:
    rows = list(stored_rows(container.app, options.events))
    mean = sum(len(r[3]) for r in rows) / len(rows)
    say(f"1. COPY of {len(rows):,} rows (state {mean:.0f} bytes on average)")
    with psycopg.connect(services.dsn, autocommit=True) as conn:
        one = copy_reference.copy_rows(conn, rows, len(rows))
        chunked = copy_reference.copy_rows(conn, rows, options.chunk)
    return [replace(one, extra={"mean_state_bytes": round(mean)}), chunked]


def _appends(container: Container, options: Options) -> list[Throughput]:
    say(f"2a. open_account x {options.events:,}")
    single = appends.one_per_transaction(container, options.events)
    say(f"2b. app.save of {options.events:,} accounts, {options.chunk} per save")
    batch = appends.many_per_transaction(container, options.events, options.chunk, options.events)
    return [single, batch]


async def _relay(services: Services, container: Container) -> list[Throughput]:
    say("3. relay to Kafka (and its parts: store reads, raw produce)")
    relayed = await relay_throughput.relay_all(container, services.bootstrap)
    raw_topic = f"{services.topic}.raw"
    await create_topic(services.bootstrap, raw_topic)
    produced = await relay_throughput.produce_raw(container, services.bootstrap, raw_topic)
    return [*relay_throughput.read_store(container), relayed, produced]


def _projections(container: Container, events: int) -> list[Throughput]:
    say(f"4. projector from Kafka, then store feed, over {events:,} events")
    kafka = asyncio.run(projection_throughput.from_kafka(container, events))
    return [kafka, projection_throughput.from_store(container, events)]


def _events_in_store(services: Services) -> int:
    with psycopg.connect(services.dsn) as conn:
        row = conn.execute("SELECT count(*) FROM ledger_events").fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class Measured:
    throughput: list[Throughput]
    lag: dict[str, Any]
    batch_sizes: list[Throughput]


def _batch_sizes(container: Container, options: Options) -> list[Throughput]:
    """Last, with the pipeline stopped, so its appends change no other stage."""
    say(f"6. app.save at {', '.join(map(str, options.batch_sizes))} accounts per save")
    first = 20_000_000  # profile numbers apart from the other stages'
    return batch_size.measure(container, options.events, options.batch_sizes, first)


def _measure(services: Services, options: Options) -> Measured:
    asyncio.run(create_topic(services.bootstrap, services.topic))
    with container_for(services) as container:
        results = _copy(services, container, options) + _appends(container, options)
        results += asyncio.run(_relay(services, container))
        results += _projections(container, _events_in_store(services))
        say("5. end-to-end lag with `ledger relay` and `ledger project` running")
        with running_pipeline(services) as procs:
            latency = lag.measure_lag(
                container, procs, services.bootstrap, options.rate, options.lag_seconds
            )
        batches = _batch_sizes(container, options)
    return Measured(results, latency, batches)


def run(options: Options) -> None:
    busy_before = quiet.wait_for_quiet(options.wait_quiet_s)
    load_before = os.getloadavg()
    started = datetime.now(UTC)
    watch = Stopwatch()
    with running_services(options.durable) as services:
        machine = describe(services.dsn)
        measured = _measure(services, options)
    full = {
        "started_at": started.isoformat(timespec="seconds"),
        "duration_s": round(watch.seconds, 1),
        "options": asdict(options),
        "machine": machine,
        "cpu_busy_before": round(busy_before, 3),
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "throughput": report.with_ratios(measured.throughput),
        "lag": measured.lag,
        "batch_sizes": report.with_ratios(measured.batch_sizes, measured.throughput),
    }
    path = report.save_json(full, started.strftime("%Y%m%dT%H%M%SZ"))
    text = report.markdown(full)
    print(text)
    say(f"results in {path.relative_to(report.ROOT)}; {full['duration_s']} s in all")
    if options.write_docs:
        report.update_docs(text)
        drawn = charts.draw([full], charts.DOCS_DIR)
        say(f"updated {report.DOCS.relative_to(report.ROOT)} and {_names(drawn)}")


def _names(paths: list[Path]) -> str:
    return ", ".join(str(p.relative_to(report.ROOT)) for p in paths)
