"""Where the pipeline stands, read from PostgreSQL alone (the store's head, the relay's durable
position, each projection's position, parked streams and running rebuild), so that what a
scrape says stays true when the relay or a projector stops: the head keeps growing and the
lag with it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import Connection, sql

from queries.projections import EventTime, ProjectionStatus, projection_statuses


@dataclass(frozen=True)
class RelayState:
    position: int  # the global position the relay has published up to (relay_positions)
    lag_events: int  # store head minus that position
    lag_seconds: float  # how long the first unpublished event has waited (0: none)


@dataclass(frozen=True)
class PipelineState:
    head: int  # the highest global position in the event store
    relay: RelayState | None  # None: no relay ever kept a position (the embedded default)
    projections: list[ProjectionStatus]
    rebuild_progress: dict[str, float]  # per projection being rebuilt: shadow position / head


def pipeline_state(
    conn: Connection[Any], names: list[str], relay: str, event_time: EventTime, now: datetime
) -> PipelineState:
    head = store_head(conn)
    return PipelineState(
        head=head,
        relay=_relay(conn, relay, head, event_time, now),
        projections=projection_statuses(conn, names, head, event_time, now),
        rebuild_progress=_rebuild_progress(conn, names, head),
    )


def store_head(conn: Connection[Any]) -> int:
    row = conn.execute("SELECT coalesce(max(notification_id), 0) FROM ledger_events").fetchone()
    return int(row[0]) if row else 0


def _relay(
    conn: Connection[Any], relay: str, head: int, event_time: EventTime, now: datetime
) -> RelayState | None:
    row = conn.execute("SELECT position FROM relay_positions WHERE relay = %s", (relay,)).fetchone()
    if row is None:
        return None
    position = int(row[0])
    waiting_since = event_time(position) if head > position else None
    seconds = max(0.0, (now - waiting_since).total_seconds()) if waiting_since else 0.0
    return RelayState(position, max(0, head - position), seconds)


def _rebuild_progress(conn: Connection[Any], names: list[str], head: int) -> dict[str, float]:
    """A rebuild that is building (running, or interrupted and resumable): how far its shadow's
    feed has folded the store, as a share of the head now."""
    rows = conn.execute(
        "SELECT projection, shadow_schema, to_regclass(format('%%I.projection_positions',"
        " shadow_schema)) IS NOT NULL FROM projection_rebuilds"
        " WHERE phase = 'building' AND projection = ANY(%s)",
        (names,),
    ).fetchall()
    return {
        name: min(1.0, _shadow_position(conn, name, schema) / head) if head and exists else 0.0
        for name, schema, exists in rows
    }


def _shadow_position(conn: Connection[Any], projection: str, schema: str) -> int:
    query = sql.SQL("SELECT feed_position FROM {}.projection_positions WHERE projection = %s")
    row = conn.execute(query.format(sql.Identifier(schema)), (projection,)).fetchone()
    return int(row[0]) if row else 0
