"""Concurrent single-account commands over HTTP, with and without group commit.

    python -m bench.http_commands [--clients 32] [--seconds 20] [--accounts 4000] [--durable]

A real `ledger serve` process (uvicorn, one worker, as deployed) on PostgreSQL; `clients`
concurrent HTTP clients (httpx, keep-alive) each change the e-mail of its own accounts with
`PATCH /internal/accounts/{id}` as fast as answers come, for `seconds`; run twice: each
command saved in its own transaction (LEDGER_GROUP_COMMIT_MAX_ACCOUNTS=1), then with group
commit (the default). Reported: commands/s, latency, and how many commands shared a
transaction (events per distinct `xmin` in the store). The clients run on the same 2 cores
as the server and PostgreSQL: their share of the CPU is printed too."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import psycopg

from adapters.bootstrap import build
from adapters.http.auth import SCOPES, ApiKeyEntry, hash_key
from adapters.postgres.database import configured
from adapters.postgres.migrate import migrate
from adapters.settings import Settings
from bench import report
from bench.cpu import run_marker
from bench.machine import describe
from bench.measure import Stopwatch, latency_summary, say
from bench.pipeline import _ledger
from bench.services import DURABLE
from bench.workload import new_accounts
from ledger.meta import ActorKind
from tests.harness import free_port, running_postgres
from tests.harness.ports import port_is_open

TOKEN = f"lk_service_bench_{uuid4().hex}"
MODES = (("each command alone", 1), ("group commit", 200))


def _keys_file(directory: Path) -> Path:
    entry = ApiKeyEntry(
        sha256=hash_key(TOKEN), id="bench", kind=ActorKind.SERVICE, scopes=frozenset(SCOPES)
    )
    path = directory / "keys.json"
    path.write_text(json.dumps([entry.model_dump(mode="json")]))
    return path


def _accounts(dsn: str, count: int) -> list[UUID]:
    with build(Settings(database_url=dsn)) as container:
        ids: list[UUID] = []
        for start in range(0, count, 500):
            accounts = new_accounts(start, min(500, count - start))
            container.app.save(*accounts)
            ids += [a.id for a in accounts]
    return ids


@contextmanager
def _serving(dsn: str, keys: Path, group: int, log: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {
        **os.environ,
        "LEDGER_DATABASE_URL": dsn,
        "LEDGER_API_KEYS_FILE": str(keys),
        "LEDGER_RATE_LIMIT": "1000000/second",
        "LEDGER_ADDRESS_RATE_LIMIT": "1000000/second",
        "LEDGER_GROUP_COMMIT_MAX_ACCOUNTS": str(group),
        "LEDGER_POOL_SIZE": "40",
        "LEDGER_LOG_LEVEL": "WARNING",
        "LEDGER_LOG_JSON": "true",
    }
    with log.open("ab") as sink:
        proc = subprocess.Popen(
            [_ledger(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not port_is_open(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"`ledger serve` did not start: see {log}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def _client(
    base: str, ids: list[UUID], until: float, latencies: list[float]
) -> dict[str, int]:
    failed: dict[str, int] = {}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    run = uuid4().hex[:8]  # every e-mail new: a command never finds nothing to change
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        turn = 0
        while time.monotonic() < until:
            account_id = ids[turn % len(ids)]
            turn += 1
            began = time.perf_counter()
            answer = await client.patch(
                f"/internal/accounts/{account_id}", json={"email": f"b{turn}.{run}@example.com"}
            )
            latencies.append(time.perf_counter() - began)
            if answer.status_code != 200:
                code = f"{answer.status_code} {answer.json().get('code', '')}".strip()
                failed[code] = failed.get(code, 0) + 1
    return failed


async def _drive(base: str, ids: list[UUID], clients: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    shares = [ids[k::clients] for k in range(clients)]
    await asyncio.gather(*(_client(base, s[:1], time.monotonic() + 1, []) for s in shares))
    watch = Stopwatch()
    until = time.monotonic() + seconds
    failed = await asyncio.gather(*(_client(base, s, until, latencies) for s in shares))
    elapsed, cpu = watch.seconds, watch.cpu()
    return {
        "commands": len(latencies),
        "failed": sum(n for f in failed for n in f.values()),
        "failures": {
            code: sum(f.get(code, 0) for f in failed) for code in {c for f in failed for c in f}
        },
        "seconds": round(elapsed, 2),
        "commands_per_s": round(len(latencies) / elapsed, 1),
        "latency_ms": latency_summary(latencies),
        "cpu": dataclasses.asdict(cpu),
    }


def _sharing(dsn: str, since: int) -> dict[str, float]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT xmin::text) FROM ledger_events"
            " WHERE notification_id > %s",
            (since,),
        ).fetchone()
    events, transactions = (int(row[0]), int(row[1])) if row else (0, 0)
    return {
        "events": events,
        "transactions": transactions,
        "per_transaction": round(events / max(1, transactions), 2),
    }


def _head(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT coalesce(max(notification_id), 0) FROM ledger_events").fetchone()
    return int(row[0]) if row else 0


@contextmanager
def _sampled(pid: int, flame: Path | None) -> Iterator[None]:
    """py-spy recording the server while the block runs (when a path is given)."""
    if flame is None:
        yield
        return
    flame.parent.mkdir(parents=True, exist_ok=True)
    spy = subprocess.Popen(
        [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid),
         "--rate", "100", "--output", str(flame)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)


def measure(
    clients: int, seconds: float, accounts: int, durable: bool, flames: Path | None = None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=run_marker()) as tmp, ExitStack() as stack:
        work = Path(tmp)
        pg = stack.enter_context(running_postgres(work / "postgres"))
        if durable:
            with psycopg.connect(pg.dsn, autocommit=True) as conn:
                for name, value in DURABLE.items():
                    conn.execute(f"ALTER SYSTEM SET {name} = {value}")
                conn.execute("SELECT pg_reload_conf()")
        migrate(configured(pg.dsn))
        ids = _accounts(pg.dsn, accounts)
        keys = _keys_file(work)
        runs = []
        for label, group in MODES:
            say(f"{label}: {clients} clients for {seconds:g} s")
            since = _head(pg.dsn)
            with _serving(pg.dsn, keys, group, work / f"serve-{group}.log") as (base, pid):
                flame = flames / f"http-commands-{group}.svg" if flames else None
                with _sampled(pid, flame):
                    result = asyncio.run(_drive(base, ids, clients, seconds))
            runs.append({"mode": label, "group_max": group, **result, **_sharing(pg.dsn, since)})
        return {
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": describe(pg.dsn),
            "options": {"clients": clients, "seconds": seconds, "accounts": accounts,
                        "durable": durable},
            "runs": runs,
        }  # fmt: skip


def markdown(result: dict[str, Any]) -> str:
    options = result["options"]
    lines = [
        f"{options['clients']} clients, {options['seconds']:g} s each,"
        f" fsync {'on' if options['durable'] else 'off'}",
        "",
        "| mode | commands/s | p50 ms | p99 ms | commands per transaction | failed"
        " | CPU: all / others |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in result["runs"]:
        cpu = run["cpu"]
        lines.append(
            f"| {run['mode']} | {run['commands_per_s']:,.0f} | {run['latency_ms']['p50']}"
            f" | {run['latency_ms']['p99']} | {run['per_transaction']} | {run['failed']}"
            f" | {cpu['busy']:.0%} / {cpu['others']:.0%} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.http_commands", description=__doc__)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--accounts", type=int, default=4000)
    parser.add_argument("--durable", action="store_true", help="fsync and synchronous commit on")
    parser.add_argument("--flame", type=Path, help="py-spy flame graphs of the server into DIR")
    args = parser.parse_args()
    result = measure(args.clients, args.seconds, args.accounts, args.durable, args.flame)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = report.save_json(result, f"{stamp}-http-commands")
    print(markdown(result))
    say(f"results in {path.relative_to(report.ROOT)}")


if __name__ == "__main__":
    main()
