"""End-to-end lag: append -> visible in the read model, at a fixed offered rate.

Appends go through `open_account` on a schedule, run by a few appender threads as an HTTP
server would (open loop: a slow append does not delay the schedule of the next ones, and
each append's clock starts at its scheduled time, so queueing behind slow ones counts).
A poller thread queries projection_streams every few ms for the accounts still pending; an
account is visible once its tracked version reaches the version written. The lag counts
from the moment the append returned (committed); a plain Kafka consumer splits it at the
moment the event reached the topic.
"""

from __future__ import annotations

import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID

import psycopg

from adapters.bootstrap import Container
from bench import workload
from bench.measure import Stopwatch, latency_summary, say
from bench.services import PARTITIONS
from bench.tap import KafkaTap
from commands.accounts import open_account
from commands.models import CommandContext, OpenAccount

APPENDERS = 4
POLL_S = 0.005
DRAIN_TIMEOUT_S = 60.0
WARMUP_TIMEOUT_S = 90.0
_QUERY = (
    "SELECT stream_id, version FROM projection_streams"
    " WHERE projection = 'accounts' AND stream_id = ANY(%s)"
)


@dataclass(frozen=True)
class Append:
    version: int
    due_at: float
    committed_at: float


class VisibilityWatch:
    """Polls the read model's tracking for pending appends; notes when each shows up."""

    def __init__(self, container: Container) -> None:
        self._conninfo = container.db.conninfo
        self._lock = threading.Lock()
        self._pending: dict[UUID, Append] = {}
        self.appends: dict[UUID, Append] = {}
        self.visible: dict[UUID, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="visibility", daemon=True)

    def __enter__(self) -> VisibilityWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def expect(self, account_id: UUID, append: Append) -> None:
        with self._lock:
            self._pending[account_id] = self.appends[account_id] = append

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def drain(self, timeout_s: float) -> int:
        """Waits for every pending append to show; returns how many never did."""
        deadline = time.monotonic() + timeout_s
        while self.pending() and time.monotonic() < deadline:
            time.sleep(POLL_S)
        return self.pending()

    def _poll(self) -> None:
        with psycopg.connect(self._conninfo, autocommit=True) as conn:
            while not self._stop.is_set():
                self._poll_once(conn)
                self._stop.wait(POLL_S)

    def _poll_once(self, conn: psycopg.Connection[Any]) -> None:
        with self._lock:
            ids = list(self._pending)
        if not ids:
            return
        seen_at = time.perf_counter()  # the query's snapshot is taken after this instant
        rows = conn.execute(_QUERY, (ids,)).fetchall()
        with self._lock:
            for stream_id, version in rows:
                waiting = self._pending.get(stream_id)
                if waiting and version >= waiting.version:
                    self.visible[stream_id] = seen_at
                    del self._pending[stream_id]


def _append(
    container: Container, watch: VisibilityWatch, cmd: OpenAccount, ctx: CommandContext, due: float
) -> None:
    result = open_account(container.deps, cmd, ctx)
    watch.expect(result.account_id, Append(result.version, due, time.perf_counter()))


def _append_at_rate(
    container: Container, watch: VisibilityWatch, rate: float, count: int, first: int
) -> float:
    """Offers `count` appends at `rate`/s; returns the seconds until the last committed."""
    requests = [(workload.command(first + i), workload.context()) for i in range(count)]
    began = time.perf_counter()
    with ThreadPoolExecutor(APPENDERS, thread_name_prefix="appender") as pool:
        futures = []
        for i, (cmd, ctx) in enumerate(requests):
            due = began + i / rate
            if (delay := due - time.perf_counter()) > 0:
                time.sleep(delay)
            futures.append(pool.submit(_append, container, watch, cmd, ctx, due))
        for future in futures:
            future.result()
    return time.perf_counter() - began


def _check_alive(procs: list[subprocess.Popen[bytes]]) -> None:
    dead = [p.args for p in procs if p.poll() is not None]
    if dead:
        raise RuntimeError(f"pipeline process exited early: {dead}")


def _warm_up(
    container: Container, procs: list[subprocess.Popen[bytes]], rate: float, first: int
) -> int:
    """One append end to end (processes started, group joined), then a second at rate."""
    with VisibilityWatch(container) as warm:
        _append_at_rate(container, warm, rate, 1, first)
        if warm.drain(WARMUP_TIMEOUT_S):
            _check_alive(procs)
            raise TimeoutError("the pipeline did not deliver a warm-up append")
        _append_at_rate(container, warm, rate, int(rate), first + 1)
        warm.drain(DRAIN_TIMEOUT_S)
    _check_alive(procs)
    return 1 + int(rate)


def _summaries(watch: VisibilityWatch, tap: KafkaTap) -> dict[str, dict[str, float]]:
    seen = [(a, watch.visible[i], tap.arrivals.get(i)) for i, a in watch.appends.items()
            if i in watch.visible]  # fmt: skip
    split = [(a, v, k) for a, v, k in seen if k is not None]
    return {
        "append_ms": latency_summary([a.committed_at - a.due_at for a in watch.appends.values()]),
        "lag_ms": latency_summary([v - a.committed_at for a, v, _ in seen]),
        "append_plus_lag_ms": latency_summary([v - a.due_at for a, v, _ in seen]),
        "to_kafka_ms": latency_summary([k - a.committed_at for a, _, k in split]),
        "kafka_to_visible_ms": latency_summary([v - k for _, v, k in split]),
    }


def measure_lag(
    container: Container,
    procs: list[subprocess.Popen[bytes]],
    bootstrap: str,
    rate: float,
    seconds: float,
) -> dict[str, Any]:
    """Warm up until appends show end to end, then offer `rate` appends/s for `seconds`."""
    first = 10_000_000  # profile numbers apart from the throughput stages'
    with KafkaTap(bootstrap, container.settings.topic, PARTITIONS) as tap:
        first += _warm_up(container, procs, rate, first)
        count = int(rate * seconds)
        say(f"lag: {count} appends at {rate:g}/s")
        with VisibilityWatch(container) as watch:
            stopwatch = Stopwatch()
            elapsed = _append_at_rate(container, watch, rate, count, first)
            cpu = stopwatch.cpu()
            lost = watch.drain(DRAIN_TIMEOUT_S)
    _check_alive(procs)
    return {
        "offered_rate": rate,
        "achieved_rate": round(count / elapsed, 1),
        "appends": count,
        "appenders": APPENDERS,
        "cpu": asdict(cpu),
        "not_visible_after_drain": lost,
        "poll_interval_ms": POLL_S * 1000,
        **_summaries(watch, tap),
    }
