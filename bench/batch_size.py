"""Append throughput against batch size: app.save of 1, 10, ... 1,000 accounts at a time.

Each size writes the same number of accounts (at least a few saves of the largest page),
with `appends.many_per_transaction`, so the only difference between the points is how
many accounts share one transaction (one table lock, one round trip, one commit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from adapters.bootstrap import Container
from bench import appends
from bench.measure import Throughput, say

SIZES = (1, 10, 50, 100, 500, 1000)
MIN_SAVES = 5


def accounts_per_size(events: int, sizes: Sequence[int]) -> int:
    """A quarter of the run's N, but at least MIN_SAVES saves of the largest page."""
    return max(events // 4, MIN_SAVES * max(sizes))


def measure(
    container: Container, events: int, sizes: Sequence[int], first: int
) -> list[Throughput]:
    count = accounts_per_size(events, sizes)
    results = []
    for i, size in enumerate(sizes):
        say(f"  {count:,} accounts, {size} per save")
        measured = appends.many_per_transaction(container, count, size, first + i * count)
        results.append(
            replace(
                measured,
                key=f"batch_{size}",
                stage=f"app.save(*accounts), {size} accounts/tx",
                extra={"accounts_per_save": size, "saves": -(-count // size)},
            )
        )
    return results
