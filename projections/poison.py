"""Poisoned events: an event whose fold (or whose write) raises parks its stream.

The parked stream's later events wait behind it (a batch holds them back; a retry reads them
from the store), every other stream keeps flowing, and `projection_poisoned` says where
each parked stream stopped and why. The batch (runtime.apply_batch) folds every stream in
memory and writes them with one set-based save inside a savepoint; only when that save
fails does it fall back to one savepoint per stream, and for a stream whose save (or fold)
failed, to one savepoint per event: the events before the bad one are applied, the bad one
and those after it are parked. The fast path costs one savepoint per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
import structlog
from psycopg import Cursor

from ledger.envelope import EventEnvelope
from projections.base import Projection

log = structlog.get_logger("projections")
ERROR_TEXT_LIMIT = 2000
# A lost connection, a deadlock or a serialization failure says nothing about the event:
# those fail the batch (retried as a whole), they never park a stream.
TRANSIENT = (psycopg.OperationalError, psycopg.InterfaceError)


@dataclass(frozen=True)
class Poisoned:
    """The event a stream stopped at and what was raised."""

    envelope: EventEnvelope
    error: str


@dataclass(frozen=True)
class StreamResult:
    """What applying one stream's events did: the last version applied (None: none)."""

    state: Any
    applied_version: int | None
    poisoned: Poisoned | None


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_TEXT_LIMIT]


def fold_stream(
    projection: Projection[Any], state: Any, envelopes: Sequence[EventEnvelope]
) -> StreamResult:
    """Folds in memory; stops at the first event whose fold raises."""
    applied: int | None = None
    for env in envelopes:
        try:
            state = projection.fold(state, env)
        except TRANSIENT:
            raise
        except Exception as error:
            return StreamResult(state, applied, Poisoned(env, describe(error)))
        applied = env.stream_version
    return StreamResult(state, applied, None)


def save_isolated(cur: Cursor[Any], projection: Projection[Any], states: dict[UUID, Any]) -> bool:
    """Saves in a savepoint: on failure only the savepoint is rolled back."""
    try:
        with cur.connection.transaction():
            projection.save(cur, states)
    except TRANSIENT:
        raise
    except Exception:
        return False
    return True


def apply_stepwise(
    cur: Cursor[Any],
    projection: Projection[Any],
    stream_id: UUID,
    state: Any,
    envelopes: Sequence[EventEnvelope],
) -> StreamResult:
    """One event at a time, each fold and write in its own savepoint, up to the first that
    raises: what came before it is written, it and what follows are not."""
    applied: int | None = None
    for env in envelopes:
        try:
            after = projection.fold(state, env)
            with cur.connection.transaction():
                projection.save(cur, {stream_id: after})
        except TRANSIENT:
            raise
        except Exception as error:
            return StreamResult(state, applied, Poisoned(env, describe(error)))
        state, applied = after, env.stream_version
    return StreamResult(state, applied, None)


def parked_streams(cur: Cursor[Any], projection: str, stream_ids: Sequence[UUID]) -> set[UUID]:
    cur.execute(
        "SELECT stream_id FROM projection_poisoned WHERE projection = %s"
        " AND stream_id = ANY(%s) AND resolved_at IS NULL",
        (projection, list(stream_ids)),
    )
    return {row[0] for row in cur.fetchall()}


def park(cur: Cursor[Any], projection: str, poisoned: Poisoned) -> None:
    """Records (or, on a failed retry, updates) the stream's open parking and logs it."""
    env = poisoned.envelope
    correlation_id = env.meta.get("correlation_id")
    cur.execute(
        "INSERT INTO projection_poisoned AS p (projection, stream_id, version, position,"
        " event_type, error, correlation_id) VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (projection, stream_id) WHERE resolved_at IS NULL DO UPDATE SET"
        " version = EXCLUDED.version, position = EXCLUDED.position,"
        " event_type = EXCLUDED.event_type, error = EXCLUDED.error,"
        " correlation_id = EXCLUDED.correlation_id, attempts = p.attempts + 1,"
        " last_tried_at = now()",
        (
            projection,
            env.account_id,
            env.stream_version,
            env.position,
            env.event_type,
            poisoned.error,
            correlation_id,
        ),
    )
    log.error(
        "projection.event_poisoned",
        projection=projection,
        stream_id=str(env.account_id),
        version=env.stream_version,
        position=env.position,
        event_type=env.event_type,
        correlation_id=correlation_id,
        error=poisoned.error,
    )


def resolve(cur: Cursor[Any], projection: str, stream_id: UUID) -> None:
    cur.execute(
        "UPDATE projection_poisoned SET resolved_at = now(), last_tried_at = now(),"
        " attempts = attempts + 1"
        " WHERE projection = %s AND stream_id = %s AND resolved_at IS NULL",
        (projection, stream_id),
    )


def tried_again(cur: Cursor[Any], projection: str, stream_id: UUID, error: str) -> int | None:
    """A retry that could not even read the stream: the parking stays where it is."""
    cur.execute(
        "UPDATE projection_poisoned SET attempts = attempts + 1, last_tried_at = now(),"
        " error = %s WHERE projection = %s AND stream_id = %s AND resolved_at IS NULL"
        " RETURNING version",
        (error, projection, stream_id),
    )
    row = cur.fetchone()
    log.error(
        "projection.retry_failed", projection=projection, stream_id=str(stream_id), error=error
    )
    return int(row[0]) if row else None
