"""Applies a batch of envelopes to a projection in ONE transaction, with the tracking.

Whatever the source (a Kafka batch mixing partitions, a page of the event store), each
stream's last applied version is locked and read, versions at or below it are skipped, a
missing predecessor is fetched from the store, and the rows and the tracking commit together.
An event whose fold or write raises parks its stream (projections/poison.py): the rest of
the batch is applied and committed, and `retry_parked` applies the parked stream after a fix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection, Cursor

from ledger.envelope import EventEnvelope
from projections import poison
from projections.base import EventSource, Projection, ProjectionGap
from projections.rows import RowTable


@dataclass(frozen=True)
class BatchOutcome:
    applied: int
    skipped: int
    backfilled: int
    max_position: int
    last_event_at: datetime | None
    parked: int = 0  # events not applied: poisoned, or waiting behind a poisoned one


def apply_batch(
    conn: Connection[Any],
    projection: Projection[Any],
    envelopes: Sequence[EventEnvelope],
    source: EventSource | None = None,
    feed_position: int | None = None,
    unreadable: Sequence[poison.Poisoned] = (),
) -> BatchOutcome:
    """`unreadable`: messages of the batch that could not be decoded (only their identity
    was read): each parks its stream at its version, in order with the rest of the batch."""
    with conn.transaction(), conn.cursor() as cur:
        hold_projection(cur, projection.name)
        return _apply(cur, projection, envelopes, source, feed_position, unreadable)


# The last version each projection applied per stream.
STREAM_VERSIONS = RowTable.of("projection_streams", "projection, stream_id, version", keys=2)


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
    unreadable: Sequence[poison.Poisoned],
) -> BatchOutcome:
    ordered = sorted(envelopes, key=lambda e: e.position)
    identities = [*ordered, *(u.envelope for u in unreadable)]
    stream_ids = sorted({e.account_id for e in identities})
    tracked = _lock_versions(cur, projection.name, stream_ids)
    parked = poison.parked_streams(cur, projection.name, stream_ids)
    cuts = _cuts(unreadable, tracked, parked)
    pending, held, backfilled = _pending(ordered, tracked, parked, cuts, source)
    states = projection.load(cur, list(pending))
    results = {
        sid: poison.fold_stream(projection, states.get(sid), e) for sid, e in pending.items()
    }
    results = _write(cur, projection, states, pending, results)
    for sid, cut in cuts.items():  # a stream stops at its unreadable message at the latest
        result = results.get(sid, poison.StreamResult(None, None, None))
        results[sid] = result if result.poisoned else replace(result, poisoned=cut)
    versions = _park_and_track(cur, projection.name, results, tracked)
    _save_versions(cur, projection.name, versions)
    applied, parked_now = _counts(ordered, tracked, results)
    save_position(cur, projection.name, ordered, feed_position)
    return BatchOutcome(
        applied=applied,
        skipped=len(ordered) - applied - parked_now - held,
        backfilled=backfilled,
        max_position=max((e.position for e in ordered), default=0),
        last_event_at=ordered[-1].occurred_at if ordered else None,
        parked=parked_now + held,
    )


def _park_and_track(
    cur: Cursor[Any],
    projection: str,
    results: dict[UUID, poison.StreamResult],
    tracked: dict[UUID, int],
) -> dict[UUID, int]:
    """Parks the streams that stopped at a poisoned event; returns the versions to track
    (a parked stream gets a tracking row too, the one a later batch or a retry locks)."""
    versions: dict[UUID, int] = {}
    for sid, result in results.items():
        if result.applied_version is not None:
            versions[sid] = result.applied_version
        if result.poisoned:
            poison.park(cur, projection, result.poisoned)
            versions.setdefault(sid, tracked.get(sid, 0))
    return versions


def _counts(
    ordered: list[EventEnvelope],
    tracked: dict[UUID, int],
    results: dict[UUID, poison.StreamResult],
) -> tuple[int, int]:
    """(applied, parked) among the batch's own events (backfilled ones not counted)."""
    applied = parked = 0
    seen: set[tuple[UUID, int]] = set()
    for env in ordered:
        key = (env.account_id, env.stream_version)
        result = results.get(env.account_id)
        if result is None or key in seen or env.stream_version <= tracked.get(key[0], 0):
            continue
        seen.add(key)
        if result.applied_version is not None and env.stream_version <= result.applied_version:
            applied += 1
        else:
            parked += 1
    return applied, parked


def _cuts(
    unreadable: Sequence[poison.Poisoned], tracked: dict[UUID, int], parked: set[UUID]
) -> dict[UUID, poison.Poisoned]:
    """Per stream not parked yet, its earliest unreadable message not applied already."""
    cuts: dict[UUID, poison.Poisoned] = {}
    for u in sorted(unreadable, key=lambda u: u.envelope.stream_version, reverse=True):
        sid = u.envelope.account_id
        if sid not in parked and u.envelope.stream_version > tracked.get(sid, 0):
            cuts[sid] = u
    return cuts


def _pending(
    ordered: list[EventEnvelope],
    tracked: dict[UUID, int],
    parked: set[UUID],
    cuts: dict[UUID, poison.Poisoned],
    source: EventSource | None,
) -> tuple[dict[UUID, list[EventEnvelope]], int, int]:
    """Per stream, in order, the events to fold (with missing predecessors fetched from the
    store); events of a parked stream are held back, not folded, and so are those at or
    after an unreadable message of their stream. A stream whose missing predecessors cannot
    be read from the store is cut (parked) at the event that needed them."""
    pending: dict[UUID, list[EventEnvelope]] = {}
    last = dict(tracked)
    held = backfilled = 0
    for env in ordered:
        sid = env.account_id
        if sid in parked:
            held += 1
            continue
        cut = cuts.get(sid)
        if env.stream_version <= last.get(sid, 0) or (
            cut and env.stream_version >= cut.envelope.stream_version
        ):
            continue
        try:
            missing = _missing(env, last.get(sid, 0), source)
        except poison.TRANSIENT:
            raise
        except Exception as error:
            if source is None:
                raise
            cuts[sid] = poison.Poisoned(env, poison.describe(error))  # predecessors unreadable
            continue
        pending.setdefault(sid, []).extend([*missing, env])
        last[sid] = env.stream_version
        backfilled += len(missing)
    return pending, held, backfilled


def _write(
    cur: Cursor[Any],
    projection: Projection[Any],
    loaded: dict[UUID, Any],
    pending: dict[UUID, list[EventEnvelope]],
    results: dict[UUID, poison.StreamResult],
) -> dict[UUID, poison.StreamResult]:
    """One set-based save of every stream that folded cleanly; if it fails, a savepoint per
    stream; a stream whose fold or save failed is applied event by event up to the bad one."""
    clean = {sid: r.state for sid, r in results.items() if r.poisoned is None}
    if poison.save_isolated(cur, projection, clean):
        retried = [sid for sid, r in results.items() if r.poisoned is not None]
    else:
        retried = [
            sid
            for sid, r in results.items()
            if r.poisoned is not None or not poison.save_isolated(cur, projection, {sid: r.state})
        ]
    for sid in retried:
        results[sid] = poison.apply_stepwise(cur, projection, sid, loaded.get(sid), pending[sid])
    return results


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
    STREAM_VERSIONS.upsert(cur, [(projection, sid, v) for sid, v in versions.items()])


def save_position(
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


@dataclass(frozen=True)
class RetryOutcome:
    projection: str
    stream_id: UUID
    applied: int  # events applied by this retry
    resolved: bool  # False: it failed again and stays parked (at `stopped_at`)
    stopped_at: int | None
    error: str | None


def retry_parked(
    conn: Connection[Any],
    projections: Sequence[Projection[Any]],
    source: EventSource,
    stream_id: UUID | None = None,
) -> list[RetryOutcome]:
    """Applies each parked stream's poisoned event and every event behind it (read from the
    store, in order), one stream per transaction. A stream that fails again stays parked,
    with its attempts, error and the event it stopped at updated."""
    by_name = {p.name: p for p in projections}
    with conn.transaction():
        rows = conn.execute(
            "SELECT projection, stream_id FROM projection_poisoned WHERE resolved_at IS NULL"
            " AND projection = ANY(%s) AND (%s::uuid IS NULL OR stream_id = %s::uuid)"
            " ORDER BY first_seen_at, id",
            (list(by_name), stream_id, stream_id),
        ).fetchall()
    return [_retry_stream(conn, by_name[name], source, sid) for name, sid in rows]


def _retry_stream(
    conn: Connection[Any], projection: Projection[Any], source: EventSource, stream_id: UUID
) -> RetryOutcome:
    with conn.transaction(), conn.cursor() as cur:
        hold_projection(cur, projection.name)
        tracked = _lock_versions(cur, projection.name, [stream_id]).get(stream_id, 0)
        if stream_id not in poison.parked_streams(cur, projection.name, [stream_id]):
            return RetryOutcome(projection.name, stream_id, 0, True, None, None)  # meanwhile
        try:
            envelopes = source.stream_between(stream_id, tracked, None)
        except poison.TRANSIENT:
            raise
        except Exception as error:  # still unreadable: it stays parked where it is
            version = poison.tried_again(cur, projection.name, stream_id, poison.describe(error))
            return RetryOutcome(
                projection.name, stream_id, 0, False, version, poison.describe(error)
            )
        state = projection.load(cur, [stream_id]).get(stream_id)
        result = poison.fold_stream(projection, state, envelopes)
        if result.poisoned or not poison.save_isolated(cur, projection, {stream_id: result.state}):
            result = poison.apply_stepwise(cur, projection, stream_id, state, envelopes)
        if result.applied_version is not None:
            _save_versions(cur, projection.name, {stream_id: result.applied_version})
        applied = (result.applied_version or tracked) - tracked
        if result.poisoned:
            poison.park(cur, projection.name, result.poisoned)
            failed = result.poisoned
            return RetryOutcome(
                projection.name,
                stream_id,
                applied,
                False,
                failed.envelope.stream_version,
                failed.error,
            )
        poison.resolve(cur, projection.name, stream_id)
        return RetryOutcome(projection.name, stream_id, applied, True, None, None)
