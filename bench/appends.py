"""Appends through the application: one account per transaction, then many per save()."""

from __future__ import annotations

import time

from adapters.bootstrap import Container
from bench import workload
from bench.measure import Stopwatch, Throughput, latency_summary
from commands.accounts import open_account


def one_per_transaction(container: Container, count: int) -> Throughput:
    """`open_account` N times, as the HTTP API does: one save() (one transaction) each.

    Commands and contexts are built (and validated by pydantic) before the clock starts."""
    requests = [(workload.command(i), workload.context()) for i in range(count)]
    latencies: list[float] = []
    watch = Stopwatch()
    for cmd, ctx in requests:
        began = time.perf_counter()
        open_account(container.deps, cmd, ctx)
        latencies.append(time.perf_counter() - began)
    return Throughput(
        key="append_single",
        stage="open_account, 1 account/tx",
        events=count,
        seconds=watch.seconds,
        cpu=watch.cpu(),
        notes="commands.accounts.open_account",
        extra={"call_latency_ms": latency_summary(latencies)},
    )


def many_per_transaction(container: Container, count: int, chunk: int, first: int) -> Throughput:
    """Account.open for `chunk` accounts, then one app.save(*accounts), until `count`."""
    watch = Stopwatch()
    for start in range(first, first + count, chunk):
        size = min(chunk, first + count - start)
        container.app.save(*workload.new_accounts(start, size))
    return Throughput(
        key="append_batch",
        stage=f"app.save(*accounts), {chunk} accounts/tx",
        events=count,
        seconds=watch.seconds,
        cpu=watch.cpu(),
        notes="Account.open + LedgerApplication.save",
    )
