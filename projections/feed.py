"""Feeding a projection straight from the event store: rebuilds and the embedded mode."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

import structlog
from psycopg import Connection, sql

from ledger.envelope import EventEnvelope
from projections.base import EventSource, Projection
from projections.poison import TRANSIENT, Poisoned, describe
from projections.runtime import BatchOutcome, apply_batch

ConnectionFactory = Callable[[], AbstractContextManager[Connection[Any]]]
Progress = Callable[[int, int], None]
Observer = Callable[[str, BatchOutcome], None]
log = structlog.get_logger("projections")


def feed_position(conn: Connection[Any], projection: str) -> int:
    # In its own transaction: on a pool connection a bare SELECT would open one that every
    # later batch would then join as a savepoint, committing nothing until the end.
    with conn.transaction():
        row = conn.execute(
            "SELECT feed_position FROM projection_positions WHERE projection = %s", (projection,)
        ).fetchone()
    return int(row[0]) if row else 0


def catch_up(
    connect: ConnectionFactory,
    projection: Projection[Any],
    source: EventSource,
    batch_size: int = 1000,
    progress: Progress | None = None,
    observe: Observer | None = None,
) -> int:
    """Applies everything after the projection's feed position up to the store's head."""
    applied = 0
    with connect() as conn:
        position = feed_position(conn, projection.name)
        while page := read_page(source, position, batch_size):
            envelopes, unreadable = page
            position = max(e.position for e in [*envelopes, *(u.envelope for u in unreadable)])
            outcome = apply_batch(conn, projection, envelopes, source, position, unreadable)
            applied += outcome.applied
            if observe:
                observe(projection.name, outcome)
            if progress:
                progress(len(envelopes), position)
    return applied


def catch_up_together(
    connect: ConnectionFactory,
    projections: list[Projection[Any]],
    source: EventSource,
    batch_size: int = 1000,
    observe: Observer | None = None,
) -> int:
    """`catch_up` of several projections reading (and decoding) each page of the store once:
    the page after the furthest-behind projection's position, then each projection in its
    own transaction, given the part of the page after its own position. The same outcome
    as catching each up alone."""
    applied = 0
    with connect() as conn:
        positions = {p.name: feed_position(conn, p.name) for p in projections}
        while page := read_page(source, min(positions.values(), default=0), batch_size):
            envelopes, unreadable = page
            end = max(e.position for e in [*envelopes, *(u.envelope for u in unreadable)])
            for projection in projections:
                after = positions[projection.name]
                if after >= end:
                    continue
                mine = [e for e in envelopes if e.position > after]
                unread = [u for u in unreadable if u.envelope.position > after]
                outcome = apply_batch(conn, projection, mine, source, end, unread)
                positions[projection.name] = end
                applied += outcome.applied
                if observe:
                    observe(projection.name, outcome)
    return applied


Page = tuple[list[EventEnvelope], list[Poisoned]]


def read_page(source: EventSource, position: int, limit: int) -> Page | None:
    """The next page of the store (None at its head). A page that cannot be decoded is read
    again one event at a time: the events that can be decoded, and the identity of those
    that cannot (each then parks its stream instead of stopping the feed at it)."""
    try:
        envelopes = source.read_after(position, limit)
    except TRANSIENT:
        raise
    except Exception:
        return _one_by_one(source, position, limit)
    return (envelopes, []) if envelopes else None


def _one_by_one(source: EventSource, position: int, limit: int) -> Page | None:
    envelopes: list[EventEnvelope] = []
    unreadable: list[Poisoned] = []
    for _ in range(limit):
        try:
            found = source.read_after(position, 1)
        except TRANSIENT:
            raise
        except Exception as error:
            identity = source.identity_after(position)
            if identity is None:
                raise
            unreadable.append(Poisoned(identity, describe(error)))
            position = identity.position
            continue
        if not found:
            break
        envelopes += found
        position = found[-1].position
    return (envelopes, unreadable) if envelopes or unreadable else None


def reset(conn: Connection[Any], projection: Projection[Any]) -> None:
    """Empties a projection's tables and tracking so a catch-up rebuilds it from scratch."""
    with conn.transaction():
        for table in projection.tables:
            conn.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(table)))
        conn.execute("DELETE FROM projection_streams WHERE projection = %s", (projection.name,))
        conn.execute("DELETE FROM projection_positions WHERE projection = %s", (projection.name,))
        conn.execute("DELETE FROM projection_poisoned WHERE projection = %s", (projection.name,))


class Wakeups(Protocol):
    """Commits to the store since `arm` (adapters/postgres/wakeups.py)."""

    def arm(self) -> None: ...

    def wait(self, timeout_s: float) -> bool: ...


IDLE_MAX_S = 0.5  # with wake-ups: the longest wait at the head
STOP_CHECK_S = 0.05  # how often that wait checks whether the feed is stopping


def follow(
    connect: ConnectionFactory,
    projections: list[Projection[Any]],
    source: EventSource,
    stop: threading.Event,
    idle_wait_s: float = 0.05,
    observe: Observer | None = None,
    caught_up: Callable[[], None] | None = None,
    wakeups: Wakeups | None = None,
) -> None:
    """Keeps projections caught up until `stop` is set (the embedded mode's projector);
    `caught_up` is called after every round that reached the store's head. At the head it
    waits for a commit (`wakeups`, at most IDLE_MAX_S) or `idle_wait_s` without them."""
    while not stop.is_set():
        if wakeups is not None:
            wakeups.arm()  # before reading: a commit the round misses ends the wait below
        applied = catch_up_together(connect, projections, source, observe=observe)
        if caught_up:
            caught_up()
        if applied:
            continue
        if wakeups is None:
            stop.wait(idle_wait_s)
        else:
            _wait_for_commit(wakeups, stop)


def _wait_for_commit(wakeups: Wakeups, stop: threading.Event) -> None:
    """Until a commit, `stop` or IDLE_MAX_S, whichever comes first: in slices of
    STOP_CHECK_S, so a stopping feed never waits out the whole of IDLE_MAX_S."""
    deadline = time.monotonic() + IDLE_MAX_S
    while not stop.is_set() and time.monotonic() < deadline:
        if wakeups.wait(STOP_CHECK_S):
            return


class FeedState(StrEnum):
    RUNNING = "running"  # following the store (or catching up for the first time)
    RESTARTING = "restarting"  # it raised: waiting out the backoff, or not caught up since
    STOPPED = "stopped"


@dataclass(frozen=True)
class FeedHealth:
    state: FeedState
    since: datetime
    restarts: int
    last_error: str | None

    @property
    def ready(self) -> bool:
        return self.state == FeedState.RUNNING


class SupervisedFeed:
    """Runs `follow` in a daemon thread that never dies silently: whatever it raises is
    logged at error level and it starts again after a backoff (doubling from `backoff_s`
    up to `max_backoff_s`, back to `backoff_s` once a round reaches the head). Its state is
    what readiness reports: `restarting` from the failure until a round reaches the head."""

    def __init__(
        self,
        run: Callable[[threading.Event, Callable[[], None]], None],
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        name: str = "store-feed",
    ) -> None:
        self._run, self._name = run, name
        self._backoff_s, self._max_backoff_s = backoff_s, max_backoff_s
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._health = FeedHealth(FeedState.RUNNING, datetime.now(UTC), 0, None)
        self._thread = threading.Thread(target=self._supervise, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout=timeout_s)

    def health(self) -> FeedHealth:
        with self._lock:
            return self._health

    def _supervise(self) -> None:
        delay = self._backoff_s
        while not self._stop.is_set():
            try:
                self._run(self._stop, self._caught_up)
            except Exception as error:
                if self.health().state == FeedState.RUNNING:
                    delay = self._backoff_s  # it had recovered since: the backoff starts over
                self._failed(error, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, self._max_backoff_s)
        self._set(FeedState.STOPPED, None)

    def _caught_up(self) -> None:
        if self.health().state != FeedState.RUNNING:
            log.info("store_feed.recovered", feed=self._name, restarts=self.health().restarts)
            self._set(FeedState.RUNNING, None)

    def _failed(self, error: Exception, delay: float) -> None:
        with self._lock:
            h = self._health
            self._health = FeedHealth(
                FeedState.RESTARTING,
                datetime.now(UTC),
                h.restarts + 1,
                f"{type(error).__name__}: {error}",
            )
        log.error("store_feed.failed", feed=self._name, restart_in_s=delay, exc_info=error)

    def _set(self, state: FeedState, error: str | None) -> None:
        with self._lock:
            h = self._health
            last = error if error is not None else h.last_error
            self._health = FeedHealth(state, datetime.now(UTC), h.restarts, last)
