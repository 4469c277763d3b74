"""What the audit-chain trigger (migrations/0005_audit_chain.sql) costs writers.

Times N saves of one event each (one transaction each) with the trigger and in a scratch
database where it was dropped, alternating rounds; plus one save of N new accounts.
Run: `uv run python -m bench.audit_cost [--n 2000] [--rounds 3]`; results go in
docs/operations.md ("Audit chain").
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from uuid import uuid4

import psycopg

from adapters.bootstrap import Container, build
from adapters.postgres.database import configured
from adapters.postgres.migrate import migrate
from adapters.settings import Settings
from bench import workload
from ledger.account import Account
from tests.harness import running_postgres

Run = Callable[[Container, int], float]


def one_stream(container: Container, n: int) -> float:
    """One account kept in memory: N profile updates, one save() each (a long stream)."""
    account = Account.open(uuid4(), workload.profile(0), workload.meta())
    container.app.save(account)
    began = time.perf_counter()
    for i in range(1, n + 1):
        account.update_profile(workload.profile(i * 5), workload.meta())
        container.app.save(account)
    return time.perf_counter() - began


def new_accounts(container: Container, n: int) -> float:
    """N new accounts, one save() each (the HTTP open path without the handler)."""
    accounts = [Account.open(uuid4(), workload.profile(i), workload.meta()) for i in range(n)]
    began = time.perf_counter()
    for account in accounts:
        container.app.save(account)
    return time.perf_counter() - began


def one_batch(container: Container, n: int) -> float:
    """N new accounts in one save() (the trigger fires N times in one statement)."""
    accounts = [Account.open(uuid4(), workload.profile(i), workload.meta()) for i in range(n)]
    began = time.perf_counter()
    container.app.save(*accounts)
    return time.perf_counter() - began


RUNS: dict[str, Run] = {
    "N saves, one stream": one_stream,
    "N saves, N new accounts": new_accounts,
    "one save of N accounts": one_batch,
}


def _database(admin_dsn: str, name: str, chained: bool) -> str:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    dsn = admin_dsn.rsplit("/", 1)[0] + f"/{name}"
    migrate(configured(dsn))
    if not chained:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("DROP TRIGGER ledger_events_chain ON ledger_events")
    return dsn


def measure(n: int, rounds: int) -> dict[str, dict[str, float]]:
    with (
        tempfile.TemporaryDirectory(prefix="audit-cost-") as tmp,
        running_postgres(Path(tmp) / "pg") as pg,
    ):
        dsns = {
            "with trigger": _database(pg.dsn, "chained", True),
            "without": _database(pg.dsn, "scratch", False),
        }
        return _rounds(dsns, n, rounds)


def _rounds(dsns: dict[str, str], n: int, rounds: int) -> dict[str, dict[str, float]]:
    times: dict[str, dict[str, list[float]]] = {r: {k: [] for k in dsns} for r in RUNS}
    containers = {k: build(Settings(database_url=d, kafka_bootstrap=None)) for k, d in dsns.items()}
    try:
        for _ in range(rounds):
            for run_name, run in RUNS.items():
                for key, container in containers.items():
                    times[run_name][key].append(run(container, n))
    finally:
        for container in containers.values():
            container.close()
    return {r: {k: statistics.median(v) for k, v in t.items()} for r, t in times.items()}


def _report(results: dict[str, dict[str, float]], n: int, rounds: int) -> None:
    print(f"N={n}, median of {rounds} alternating rounds")
    print("| run | with trigger | without | cost |")
    print("|---|---|---|---|")
    for run_name, t in results.items():
        on, off = t["with trigger"], t["without"]
        rate = f"{n / on:,.0f} ev/s ({on:.2f} s) | {n / off:,.0f} ev/s ({off:.2f} s)"
        print(f"| {run_name} | {rate} | {100 * (on - off) / off:+.0f}% |")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.audit_cost", description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    _report(measure(args.n, args.rounds), args.n, args.rounds)


if __name__ == "__main__":
    main()
