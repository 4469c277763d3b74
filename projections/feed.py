"""Feeding a projection straight from the event store: rebuilds and the embedded mode."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from psycopg import Connection, sql

from projections.base import EventSource, Projection
from projections.runtime import BatchOutcome, apply_batch

ConnectionFactory = Callable[[], AbstractContextManager[Connection[Any]]]
Progress = Callable[[int, int], None]
Observer = Callable[[str, BatchOutcome], None]


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
        while envelopes := source.read_after(position, batch_size):
            position = envelopes[-1].position
            outcome = apply_batch(conn, projection, envelopes, source, position)
            applied += outcome.applied
            if observe:
                observe(projection.name, outcome)
            if progress:
                progress(len(envelopes), position)
    return applied


def reset(conn: Connection[Any], projection: Projection[Any]) -> None:
    """Empties a projection's tables and tracking so a catch-up rebuilds it from scratch."""
    with conn.transaction():
        for table in projection.tables:
            conn.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(table)))
        conn.execute("DELETE FROM projection_streams WHERE projection = %s", (projection.name,))
        conn.execute("DELETE FROM projection_positions WHERE projection = %s", (projection.name,))


def follow(
    connect: ConnectionFactory,
    projections: list[Projection[Any]],
    source: EventSource,
    stop: threading.Event,
    idle_wait_s: float = 0.05,
    observe: Observer | None = None,
) -> None:
    """Keeps projections caught up until `stop` is set (the embedded mode's projector)."""
    while not stop.is_set():
        applied = sum(catch_up(connect, p, source, observe=observe) for p in projections)
        if not applied:
            stop.wait(idle_wait_s)
