"""Applies a batch of envelopes to a projection in ONE transaction, with the tracking.

Whatever the source (a Kafka batch mixing partitions, a page of the event store), each
stream's last applied version is locked and read, versions at or below it are skipped, a
missing predecessor is fetched from the store, and the rows and the tracking commit together.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection, Cursor

from ledger.envelope import EventEnvelope
from projections.base import EventSource, Projection, ProjectionGap


@dataclass(frozen=True)
class BatchOutcome:
    applied: int
    skipped: int
    backfilled: int
    max_position: int
    last_event_at: datetime | None


def apply_batch(
    conn: Connection[Any],
    projection: Projection[Any],
    envelopes: Sequence[EventEnvelope],
    source: EventSource | None = None,
    feed_position: int | None = None,
) -> BatchOutcome:
    with conn.transaction(), conn.cursor() as cur:
        hold_projection(cur, projection.name)
        return _apply(cur, projection, envelopes, source, feed_position)


def projection_lock_key(name: str) -> int:
    """The advisory lock key of a projection's live rows (a signed 64-bit integer)."""
    digest = hashlib.blake2b(b"projection:" + name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def hold_projection(cur: Cursor[Any], name: str) -> None:
    """Every writer of a projection's live rows holds this shared lock until it commits; a
    rebuild's swap takes it exclusively, which pauses them (Kafka batches, the store feed,
    recomputes) for the swap and lets in-flight batches finish first. A killed swap's
    lock goes with its connection: nothing can stay paused."""
    cur.execute("SELECT pg_advisory_xact_lock_shared(%s)", (projection_lock_key(name),))


def _apply(
    cur: Cursor[Any],
    projection: Projection[Any],
    envelopes: Sequence[EventEnvelope],
    source: EventSource | None,
    feed_position: int | None,
) -> BatchOutcome:
    ordered = sorted(envelopes, key=lambda e: e.position)
    stream_ids = sorted({e.account_id for e in ordered})
    versions = _lock_versions(cur, projection.name, stream_ids)
    states = projection.load(cur, stream_ids)
    changed: set[UUID] = set()
    applied = backfilled = 0
    for env in ordered:
        last = versions.get(env.account_id, 0)
        if env.stream_version <= last:
            continue
        missing = _missing(env, last, source)
        for earlier in [*missing, env]:
            states[env.account_id] = projection.fold(states.get(env.account_id), earlier)
        versions[env.account_id] = env.stream_version
        changed.add(env.account_id)
        applied += 1
        backfilled += len(missing)
    projection.save(cur, {sid: states.get(sid) for sid in changed})
    _save_versions(cur, projection.name, {sid: versions[sid] for sid in changed})
    max_position = max((e.position for e in ordered), default=0)
    _save_position(cur, projection.name, ordered, feed_position)
    last_event_at = ordered[-1].occurred_at if ordered else None
    return BatchOutcome(applied, len(ordered) - applied, backfilled, max_position, last_event_at)


def _missing(env: EventEnvelope, last: int, source: EventSource | None) -> list[EventEnvelope]:
    if env.stream_version == last + 1:
        return []
    if source is None:
        raise ProjectionGap(f"{env.account_id}: version {env.stream_version} after {last}")
    missing = source.stream_between(env.account_id, last, env.stream_version)
    if [m.stream_version for m in missing] != list(range(last + 1, env.stream_version)):
        raise ProjectionGap(f"{env.account_id}: store lacks versions {last + 1}..")
    return missing


def _lock_versions(cur: Cursor[Any], projection: str, stream_ids: list[UUID]) -> dict[UUID, int]:
    cur.execute(
        "SELECT stream_id, version FROM projection_streams"
        " WHERE projection = %s AND stream_id = ANY(%s) ORDER BY stream_id FOR UPDATE",
        (projection, stream_ids),
    )
    return {row[0]: row[1] for row in cur.fetchall()}


def _save_versions(cur: Cursor[Any], projection: str, versions: dict[UUID, int]) -> None:
    if not versions:
        return
    cur.executemany(
        "INSERT INTO projection_streams (projection, stream_id, version) VALUES (%s, %s, %s)"
        " ON CONFLICT (projection, stream_id) DO UPDATE SET version = EXCLUDED.version",
        [(projection, sid, v) for sid, v in versions.items()],
    )


def _save_position(
    cur: Cursor[Any],
    projection: str,
    ordered: list[EventEnvelope],
    feed_position: int | None,
) -> None:
    if not ordered and feed_position is None:
        return
    last = ordered[-1] if ordered else None
    cur.execute(
        "INSERT INTO projection_positions AS p"
        " (projection, max_position, feed_position, last_event_at, updated_at)"
        " VALUES (%(p)s, %(max)s, COALESCE(%(feed)s, 0), %(at)s, now())"
        " ON CONFLICT (projection) DO UPDATE SET"
        " max_position = GREATEST(p.max_position, EXCLUDED.max_position),"
        " feed_position = GREATEST(p.feed_position, COALESCE(%(feed)s, p.feed_position)),"
        " last_event_at = GREATEST(p.last_event_at, EXCLUDED.last_event_at),"
        " updated_at = now()",
        {
            "p": projection,
            "max": last.position if last else 0,
            "feed": feed_position,
            "at": last.occurred_at if last else None,
        },
    )
