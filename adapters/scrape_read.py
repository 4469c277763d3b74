"""One read of the database's state shared by the scrapes of a few seconds, for the
collectors that compute metrics at scrape time (business state and flow, pipeline state): one read
at a time, in one read-only snapshot bounded by a statement timeout, kept `ttl_s`. A read
the database does not answer is logged, counted, and kept as None (the caller leaves its
families out; /metrics still answers)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import psycopg
import structlog
from eventsourcing.persistence import PersistenceError
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from psycopg import Connection

log = structlog.get_logger("metrics")
Connect = Callable[[], AbstractContextManager[Connection[Any]]]
T = TypeVar("T")


@dataclass(frozen=True)
class Read(Generic[T]):
    state: T | None  # None: the database did not answer
    at: float  # monotonic
    seconds: float


@dataclass(frozen=True)
class ReadFamilies:
    """The two families a scrape-time read exports about itself: the reads the database did
    not answer (always) and how long the last read took (only when it answered)."""

    errors: str  # exposed as ..._total
    errors_doc: str
    seconds: str
    seconds_doc: str

    def described(self) -> Iterator[Metric]:
        yield CounterMetricFamily(self.errors, self.errors_doc)
        yield GaugeMetricFamily(self.seconds, self.seconds_doc)

    def collected(self, errors: int, read: Read[Any]) -> Iterator[Metric]:
        yield CounterMetricFamily(self.errors, self.errors_doc, value=errors)
        if read.state is not None:
            yield GaugeMetricFamily(self.seconds, self.seconds_doc, value=read.seconds)


class CachedRead(Generic[T]):
    def __init__(
        self,
        connect: Connect,
        query: Callable[[Connection[Any]], T],
        unavailable_event: str,
        ttl_s: float = 5.0,
        statement_timeout_ms: int = 5000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._connect = connect
        self._query = query
        self._unavailable_event = unavailable_event
        self._ttl_s = ttl_s
        self._statement_timeout_ms = statement_timeout_ms
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._last: Read[T] | None = None
        self.errors = 0  # reads the database did not answer

    def current(self) -> Read[T]:
        with self._lock:  # one read at a time; concurrent scrapes share it
            last = self._last
            if last is None or self._monotonic() - last.at >= self._ttl_s:
                last = self._last = self._read()
            return last

    def _read(self) -> Read[T]:
        started = self._monotonic()
        state: T | None
        try:
            state = self._snapshot()
        except (psycopg.Error, PersistenceError) as error:  # PoolTimeout is a psycopg.Error
            self.errors += 1
            log.warning(self._unavailable_event, error=str(error).strip())
            state = None
        done = self._monotonic()
        return Read(state, done, done - started)

    def _snapshot(self) -> T:
        with self._connect() as conn:
            # One snapshot for every query, bounded so that a slow database fails the read
            # rather than the scrape.
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            conn.execute(f"SET LOCAL statement_timeout = {int(self._statement_timeout_ms)}")
            return self._query(conn)
