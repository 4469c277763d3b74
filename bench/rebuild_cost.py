"""What a projection rebuild through the shadow schema costs (projections/rebuild.py).

N accounts (one AccountOpened each, saved 500 per transaction), the `accounts` read model
fed live; then D accounts' rows damaged, and one rebuild: the shadow build (events/s), and
the swap (the time live writers are paused: final catch-up, per-account checksums of both
schemas, replacement of the D accounts). A plain reset + catch-up (the old, truncating
rebuild) is timed for reference.
Run: `uv run python -m bench.rebuild_cost [--n 50000] [--damaged 100]`; results go in
docs/benchmarks.md ("Rebuild").
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import psycopg

from adapters.bootstrap import Container, build
from adapters.postgres.database import configured
from adapters.postgres.migrate import migrate
from adapters.settings import Settings
from bench import workload
from projections import rebuild
from projections.feed import catch_up, reset
from tests.harness import running_postgres

PROJECTION = "accounts"
SAVE_BATCH = 500


def _fill(container: Container, n: int) -> None:
    for first in range(0, n, SAVE_BATCH):
        container.app.save(*workload.new_accounts(first, min(SAVE_BATCH, n - first)))


def _damage(container: Container, damaged: int) -> None:
    with container.connection() as conn:
        conn.execute(
            "UPDATE accounts SET name = name || ' (damaged)' WHERE account_id IN"
            " (SELECT account_id FROM accounts ORDER BY account_id LIMIT %s)",
            (damaged,),
        )


def _timed_rebuild(container: Container) -> tuple[float, float, rebuild.RebuildReport]:
    projection = container.projections[PROJECTION]
    with container.connection() as conn, rebuild.exclusive_rebuild(conn, PROJECTION):
        conn.commit()
        start = rebuild.prepare(conn, projection, container.reader.head(), fresh=True)
        began = time.perf_counter()
        rebuild.build(conn, projection, container.reader)
        built = time.perf_counter()
        report = rebuild.swap(conn, projection, container.reader, start)
        swapped = time.perf_counter()
    return built - began, swapped - built, report


def _timed_reset(container: Container) -> float:
    projection = container.projections[PROJECTION]
    with container.connection() as conn:
        reset(conn, projection)
    began = time.perf_counter()
    catch_up(container.connection, projection, container.reader)
    return time.perf_counter() - began


def measure(n: int, damaged: int) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="rebuild-cost-") as tmp,
        running_postgres(Path(tmp) / "pg") as pg,
    ):
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute("CREATE DATABASE rebuild_bench")
        dsn = pg.dsn.rsplit("/", 1)[0] + "/rebuild_bench"
        migrate(configured(dsn))
        with build(Settings(database_url=dsn, kafka_bootstrap=None)) as container:
            _fill(container, n)
            catch_up(container.connection, container.projections[PROJECTION], container.reader)
            _damage(container, damaged)
            build_s, swap_s, report = _timed_rebuild(container)
            reset_s = _timed_reset(container)
    print(f"N={n} accounts ({n} events), {damaged} damaged; {len(report.differences)} replaced")
    print("| step | time | rate |")
    print("|---|---|---|")
    print(f"| shadow build | {build_s:.2f} s | {n / build_s:,.0f} ev/s |")
    print(f"| swap (writers paused) | {swap_s:.3f} s | {n / swap_s:,.0f} accounts compared/s |")
    print(f"| reset + catch-up (reference) | {reset_s:.2f} s | {n / reset_s:,.0f} ev/s |")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rebuild_cost", description=__doc__)
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--damaged", type=int, default=100)
    args = parser.parse_args()
    measure(args.n, args.damaged)


if __name__ == "__main__":
    main()
