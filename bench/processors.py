"""The payment-processor paths on real PostgreSQL and Redis against the local stand-ins
(localstripe, the local Braintree gateway, the local Turnstile siteverify): a card payment
session, an off-session collection, reconciliation. See docs/benchmarks.md ("Processors").

Run: `uv run python -m bench.processors [--sessions 200] [--collections 200]
[--accounts 200] [--wait-quiet S] [--write-docs]`. Separate from `python -m bench`, whose
default run is unchanged.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any

from adapters.logging import configure_logging
from bench import processor_report, processor_stages, quiet, report
from bench.machine import describe
from bench.measure import Stopwatch, say
from bench.processor_services import counted_container, running_stand_ins

LIBRARIES = ("eventsourcing", "psycopg", "stripe", "braintree", "redis", "localstripe")


@dataclass(frozen=True)
class Options:
    sessions: int
    collections: int
    accounts: int
    write_docs: bool
    wait_quiet_s: float


def _options() -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.processors", description=__doc__)
    parser.add_argument("--sessions", type=int, default=200, help="card payment sessions")
    parser.add_argument("--collections", type=int, default=200, help="off-session collections")
    parser.add_argument("--accounts", type=int, default=200, help="accounts reconciled")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each stage, wait up to this long for the machine to be nearly idle",
    )
    a = parser.parse_args()
    if min(a.sessions, a.collections, a.accounts) < 1:
        parser.error("--sessions, --collections and --accounts must be at least 1")
    return Options(a.sessions, a.collections, a.accounts, a.write_docs, a.wait_quiet)


def _machine(dsn: str) -> dict[str, Any]:
    found = describe(dsn)
    for unused in ("kafka", "java"):
        found.pop(unused, None)
    found["libraries"] = {name: version(name) for name in LIBRARIES}
    redis_v = subprocess.run(["redis-server", "--version"], capture_output=True, text=True)
    found["redis_server"] = next(
        (w.removeprefix("v=") for w in redis_v.stdout.split() if w.startswith("v=")), "unknown"
    )
    return found


def _quiet(options: Options, busy: list[float]) -> None:
    busy.append(round(quiet.wait_for_quiet(options.wait_quiet_s), 3))


def _measure(options: Options, busy: list[float]) -> dict[str, Any]:
    with running_stand_ins() as stand_ins:
        machine = _machine(stand_ins.dsn)
        with counted_container(stand_ins) as (container, counters):
            bench = processor_stages.Bench(container, counters, stand_ins)
            _quiet(options, busy)
            sessions = processor_stages.sessions(bench, options.sessions)
            _quiet(options, busy)
            collections, paying = processor_stages.collections(bench, options.collections)
            _quiet(options, busy)
            reconciled = processor_stages.reconciliation(bench, paying, options.accounts)
    return {
        "machine": machine,
        "sessions": sessions,
        "collections": collections,
        "reconciliation": reconciled,
    }


def run(options: Options) -> None:
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    watch = Stopwatch()
    busy: list[float] = []
    measured = _measure(options, busy)
    full = {
        "started_at": started.isoformat(timespec="seconds"),
        "duration_s": round(watch.seconds, 1),
        "options": asdict(options),
        "cpu_busy_before": busy[0],
        "cpu_busy_before_each_stage": busy,
        "load_average": {"before": load_before, "after": os.getloadavg()},
        **measured,
    }
    path = report.save_json(full, started.strftime("%Y%m%dT%H%M%SZ") + "-processors")
    text = processor_report.markdown(full)
    print(text)
    say(f"results in {path.relative_to(report.ROOT)}; {full['duration_s']} s in all")
    if options.write_docs:
        processor_report.update_docs(text)
        say(f"updated {report.DOCS.relative_to(report.ROOT)}")


if __name__ == "__main__":
    # Warnings only: the commands' info lines (one or two per operation) would fill stdout.
    configure_logging(json=True, level="WARNING")
    run(_options())
