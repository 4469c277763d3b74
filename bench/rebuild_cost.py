"""What a projection rebuild through the shadow schema costs (projections/rebuild.py).

A store is filled, every read model fed live (`projections.feed.catch_up`), then D accounts'
rows deleted from each projection's first table (the rebuild finds them missing), and each
projection rebuilt once: the shadow build (events/s: a fresh shadow is built by
projections/bulk.py), the swap (per-account checksums of both schemas while writers run,
then, live writers paused: final catch-up, checksums again of what differed or moved,
replacement of the D accounts; the report gives the paused part), and, for
reference, a reset + catch-up through the batched feed (the old, truncating rebuild) and a
raw COPY of the store's rows in one transaction, in the same run.

Workloads: `opened` (N accounts, one AccountOpened each, saved 500 per transaction) and
`month-end` (N accounts due for renewal, as bench.month_end builds them, then billed a page
of 500 at a time: about 12 events per account, 20 event types).
Run: `uv run python -m bench.rebuild_cost [--workload month-end] [--n 10000] [--damaged 100]`;
results in bench/results/<stamp>-rebuild.json and docs/benchmarks.md ("Rebuild").
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from adapters.bootstrap import Container, build
from adapters.postgres.database import configured
from adapters.postgres.migrate import migrate
from adapters.settings import Settings
from bench import month_end, report, workload
from bench.machine import describe
from bench.measure import say
from commands import dunning
from projections import rebuild
from projections.feed import catch_up, reset
from tests.harness import running_postgres

SAVE_BATCH = 500


def _fill(container: Container, n: int) -> None:
    for first in range(0, n, SAVE_BATCH):
        container.app.save(*workload.new_accounts(first, min(SAVE_BATCH, n - first)))


def _fill_month_end(container: Container, n: int) -> None:
    ids = month_end.build_fleet(container.deps, n, 0)
    month_end.batched(dunning.PAGE)(container.deps, ids)


def _damage(container: Container, projection: str, damaged: int) -> None:
    table = container.projections[projection].tables[0]
    with container.connection() as conn:
        conn.execute(
            f"DELETE FROM {table} WHERE account_id IN"
            f" (SELECT DISTINCT account_id FROM {table} ORDER BY account_id LIMIT %s)",
            (damaged,),
        )


def _timed_rebuild(container: Container, name: str) -> tuple[float, float, rebuild.RebuildReport]:
    projection = container.projections[name]
    with container.connection() as conn, rebuild.exclusive_rebuild(conn, name):
        conn.commit()
        start = rebuild.prepare(conn, projection, container.reader.head(), fresh=True)
        began = time.perf_counter()
        rebuild.build(conn, projection, container.reader)
        built = time.perf_counter()
        report = rebuild.swap(conn, projection, container.reader, start)
        swapped = time.perf_counter()
    return built - began, swapped - built, report


def _timed_reset(container: Container, name: str) -> float:
    projection = container.projections[name]
    with container.connection() as conn:
        reset(conn, projection)
    began = time.perf_counter()
    catch_up(container.connection, projection, container.reader)
    return time.perf_counter() - began


def measure(workload_name: str, n: int, damaged: int) -> dict[str, Any]:
    started = datetime.now(UTC)
    with (
        tempfile.TemporaryDirectory(prefix="rebuild-cost-") as tmp,
        running_postgres(Path(tmp) / "pg") as pg,
    ):
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute("CREATE DATABASE rebuild_bench")
        dsn = pg.dsn.rsplit("/", 1)[0] + "/rebuild_bench"
        migrate(configured(dsn))
        machine = describe(dsn)
        with build(Settings(database_url=dsn, kafka_bootstrap=None)) as container:
            say(f"filling: {workload_name}, {n:,} accounts")
            (_fill_month_end if workload_name == "month-end" else _fill)(container, n)
            head = container.reader.head()
            for projection in container.projections.values():
                catch_up(container.connection, projection, container.reader)
            rows = []
            for name in container.projections:
                say(f"rebuilding {name}")
                _damage(container, name, damaged)
                build_s, swap_s, report = _timed_rebuild(container, name)
                rows.append(
                    _row(name, head, build_s, swap_s, report, _timed_reset(container, name))
                )
        copy = month_end.copy_of_run(dsn, 0, head)
    return {
        "started_at": started.isoformat(timespec="seconds"),
        "options": {"workload": workload_name, "accounts": n, "damaged": damaged},
        "machine": machine,
        "events": head,
        "copy": copy,
        "projections": rows,
    }


def _row(
    name: str,
    events: int,
    build_s: float,
    swap_s: float,
    report: rebuild.RebuildReport,
    reset_s: float,
) -> dict[str, Any]:
    return {
        "projection": name,
        "build_s": round(build_s, 3),
        "build_events_per_s": round(events / build_s, 1),
        "swap_s": round(swap_s, 3),
        "paused_s": round(report.paused_s, 3),
        "accounts_compared": report.accounts_compared,
        "replaced": len(report.differences),
        "batched_s": round(reset_s, 3),
        "batched_events_per_s": round(events / reset_s, 1),
    }


def markdown(result: dict[str, Any]) -> str:
    copy = result["copy"]["events_per_s"]
    options = result["options"]
    lines = [
        f"Workload `{options['workload']}`: {options['accounts']:,} accounts,"
        f" {result['events']:,} events; {options['damaged']} accounts' rows deleted before"
        f" each rebuild; raw COPY of the same rows: {copy:,.0f} events/s",
        "",
        "| projection | shadow build | events/s | vs COPY | batched feed (reference) | swap"
        " | of which writers paused | accounts compared | replaced |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["projections"]:
        lines.append(
            f"| {r['projection']} | {r['build_s']:.2f} s | {r['build_events_per_s']:,.0f}"
            f" | 1/{copy / r['build_events_per_s']:.0f} | {r['batched_events_per_s']:,.0f} ev/s"
            f" | {r['swap_s']:.3f} s | {r['paused_s']:.3f} s | {r['accounts_compared']:,}"
            f" | {r['replaced']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rebuild_cost", description=__doc__)
    parser.add_argument("--workload", choices=["opened", "month-end"], default="month-end")
    parser.add_argument("--n", type=int, default=10_000, help="accounts")
    parser.add_argument("--damaged", type=int, default=100)
    args = parser.parse_args()
    result = measure(args.workload, args.n, args.damaged)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = report.RESULTS_DIR / f"{stamp}-rebuild.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    print(markdown(result))
    say(f"results in {path.relative_to(report.ROOT)}")


if __name__ == "__main__":
    main()
