"""Where each projection stands: positions, lag behind the store, its last rebuild, and the
streams it parked on a poisoned event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection
from pydantic import BaseModel, ConfigDict

# When the first event after a position happened (None: there is none).
EventTime = Callable[[int], datetime | None]


class RebuildView(BaseModel):
    model_config = ConfigDict(frozen=True)

    phase: str  # building (running, or interrupted and resumable) | swapped
    started_at: datetime
    started_head: int
    swapped_at: datetime | None
    swapped_position: int | None
    accounts_compared: int | None
    accounts_changed: int | None


class ProjectionStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    projection: str
    max_position: int  # the highest global position applied
    feed_position: int  # where the store feed (embedded mode, rebuilds) resumes
    store_head: int
    lag_events: int  # store head minus max position
    lag_seconds: float  # how long the first event after max position has waited (0: none)
    last_event_at: datetime | None
    rebuild: RebuildView | None
    poisoned: int = 0  # streams parked on an event this projection could not apply


class PoisonedEvent(BaseModel):
    """A parked stream: the event it stopped at, what was raised, and the retries so far."""

    model_config = ConfigDict(frozen=True)

    projection: str
    stream_id: UUID
    version: int
    position: int
    event_type: str
    error: str
    correlation_id: UUID | None
    first_seen_at: datetime
    last_tried_at: datetime
    attempts: int


def projection_statuses(
    conn: Connection[Any], names: list[str], head: int, event_time: EventTime, now: datetime
) -> list[ProjectionStatus]:
    with conn.transaction():
        positions = _positions(conn, names)
        rebuilds = _rebuilds(conn, names)
        parked = _parked_counts(conn, names)
    return [
        _status(
            name, positions.get(name, (0, 0, None)), rebuilds.get(name), head, event_time, now
        ).model_copy(update={"poisoned": parked.get(name, 0)})
        for name in names
    ]


def poisoned_events(
    conn: Connection[Any], projection: str | None = None, stream_id: UUID | None = None
) -> list[PoisonedEvent]:
    """Every open parking (oldest first), optionally of one projection or one stream."""
    with conn.transaction():
        rows = conn.execute(
            "SELECT projection, stream_id, version, position, event_type, error,"
            " correlation_id, first_seen_at, last_tried_at, attempts FROM projection_poisoned"
            " WHERE resolved_at IS NULL AND (%(p)s::text IS NULL OR projection = %(p)s::text)"
            " AND (%(s)s::uuid IS NULL OR stream_id = %(s)s::uuid) ORDER BY first_seen_at, id",
            {"p": projection, "s": stream_id},
        ).fetchall()
    names = list(PoisonedEvent.model_fields)
    return [PoisonedEvent(**dict(zip(names, r, strict=True))) for r in rows]


def _parked_counts(conn: Connection[Any], names: list[str]) -> dict[str, int]:
    rows = conn.execute(
        "SELECT projection, count(*) FROM projection_poisoned"
        " WHERE resolved_at IS NULL AND projection = ANY(%s) GROUP BY projection",
        (names,),
    ).fetchall()
    return {r[0]: int(r[1]) for r in rows}


def _status(
    name: str,
    position: tuple[int, int, datetime | None],
    rebuild: RebuildView | None,
    head: int,
    event_time: EventTime,
    now: datetime,
) -> ProjectionStatus:
    max_position, feed, last_event_at = position
    waiting_since = event_time(max_position) if head > max_position else None
    lag_seconds = max(0.0, (now - waiting_since).total_seconds()) if waiting_since else 0.0
    return ProjectionStatus(
        projection=name,
        max_position=max_position,
        feed_position=feed,
        store_head=head,
        lag_events=max(0, head - max_position),
        lag_seconds=lag_seconds,
        last_event_at=last_event_at,
        rebuild=rebuild,
    )


def _positions(
    conn: Connection[Any], names: list[str]
) -> dict[str, tuple[int, int, datetime | None]]:
    rows = conn.execute(
        "SELECT projection, max_position, feed_position, last_event_at FROM projection_positions"
        " WHERE projection = ANY(%s)",
        (names,),
    ).fetchall()
    return {r[0]: (int(r[1]), int(r[2]), r[3]) for r in rows}


def _rebuilds(conn: Connection[Any], names: list[str]) -> dict[str, RebuildView]:
    rows = conn.execute(
        "SELECT projection, phase, started_at, started_head, swapped_at, swapped_position,"
        " accounts_compared, accounts_changed FROM projection_rebuilds"
        " WHERE projection = ANY(%s)",
        (names,),
    ).fetchall()
    return {
        r[0]: RebuildView(
            phase=r[1],
            started_at=r[2],
            started_head=r[3],
            swapped_at=r[4],
            swapped_position=r[5],
            accounts_compared=r[6],
            accounts_changed=r[7],
        )
        for r in rows
    }
