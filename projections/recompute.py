"""Recompute one stream's rows in every projection from its events, in ONE transaction.

A transaction-scoped advisory lock keyed on the stream refuses a second recompute of the
same account. The stream's `projection_streams` rows are locked `FOR UPDATE` first, so a
concurrent batch (Kafka or the store feed) that touches this stream waits for the commit and
then sees the head version: it skips what the recompute applied. The tracking rows are
updated in place, never deleted: a batch waiting on a deleted row would find none and apply
the whole stream a second time. A stream never tracked gets committed placeholder rows first,
so there is always a row to wait on. If, once the rows are locked, a batch turns out to have
applied more of the stream than the envelopes given, the recompute refuses
(`StreamMovedOn`) rather than undo those events: the caller reads the stream again.
A recompute that applies the whole stream ends the stream's parking (projection_poisoned);
one whose fold raises changes nothing and raises.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from typing import Any
from uuid import UUID

from psycopg import Connection, Cursor, sql

from ledger.envelope import EventEnvelope
from ledger.errors import DomainError, ErrorKind
from projections.base import Projection
from projections.runtime import STREAM_VERSIONS, hold_projection


class RecomputeInProgress(DomainError):
    """Another recompute of this account is running; try again when it has finished."""

    code = "recompute_in_progress"
    kind = ErrorKind.CONFLICT


class StreamMovedOn(DomainError):
    """The stream moved on while it was being read: read it again and recompute."""

    code = "account_busy"
    kind = ErrorKind.CONFLICT


@dataclass(frozen=True)
class Change:
    """Whether a projection's stored rows for the stream changed, and every column that
    did (dotted paths: `status` for a one-row table, `<invoice id>.status`, and into JSON
    columns, `detail.invoices.<id>.status`), before and after."""

    changed: bool
    before: dict[str, Any]
    after: dict[str, Any]


def recompute_lock_key(stream_id: UUID) -> int:
    """The advisory lock key of a stream's recompute (a signed 64-bit integer)."""
    digest = hashlib.blake2b(b"recompute:" + stream_id.bytes, digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def recompute_stream(
    conn: Connection[Any],
    projections: Sequence[Projection[Any]],
    stream_id: UUID,
    envelopes: Sequence[EventEnvelope],
) -> dict[str, Change]:
    """Deletes and refolds `stream_id`'s rows in every projection from `envelopes` (the
    whole stream, versions 1..head) and records the head version as applied."""
    ordered = _whole_stream(stream_id, envelopes)
    head = ordered[-1].stream_version if ordered else 0
    names = [p.name for p in projections]
    _placeholders(conn, names, stream_id)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_xact_lock(%s)", (recompute_lock_key(stream_id),))
        row = cur.fetchone()
        if not row or not row[0]:
            raise RecomputeInProgress()
        for name in sorted(names):
            hold_projection(cur, name)
        cur.execute(
            "SELECT max(version) FROM (SELECT version FROM projection_streams"
            " WHERE stream_id = %s AND projection = ANY(%s) ORDER BY projection FOR UPDATE) v",
            (stream_id, names),
        )
        tracked = cur.fetchone()
        if tracked and tracked[0] is not None and tracked[0] > head:
            # a batch applied events after `envelopes` were read: refolding them would
            # undo those events, and Kafka would not deliver them again
            raise StreamMovedOn(f"{stream_id}: version {tracked[0]} applied, read up to {head}")
        changes = {}
        for projection in projections:
            before = stored_rows(cur, projection.tables, stream_id)
            projection.delete(cur, [stream_id])
            state = None
            for env in ordered:
                state = projection.fold(state, env)
            projection.save(cur, {stream_id: state})
            changes[projection.name] = change_of(
                before, stored_rows(cur, projection.tables, stream_id)
            )
        _track(cur, names, stream_id, head)
    return changes


def _placeholders(conn: Connection[Any], names: list[str], stream_id: UUID) -> None:
    """Tracking rows (version 0, the same as none) for projections that never tracked the
    stream, committed BEFORE the recompute's transaction: a batch racing the recompute then
    finds a row to lock and waits for the recompute, instead of applying beside it."""
    with conn.transaction():
        conn.execute(
            "INSERT INTO projection_streams (projection, stream_id, version)"
            " SELECT name, %s, 0 FROM unnest(%s::text[]) name ON CONFLICT DO NOTHING",
            (stream_id, names),
        )


def _whole_stream(stream_id: UUID, envelopes: Sequence[EventEnvelope]) -> list[EventEnvelope]:
    ordered = sorted(envelopes, key=lambda e: e.stream_version)
    if any(e.account_id != stream_id for e in ordered):
        raise ValueError(f"envelopes of another stream given for {stream_id}")
    if [e.stream_version for e in ordered] != list(range(1, len(ordered) + 1)):
        raise ValueError(f"{stream_id}: a recompute needs the whole stream, from version 1")
    return ordered


def _track(cur: Cursor[Any], names: list[str], stream_id: UUID, head: int) -> None:
    # the whole stream is applied: a parking of it (projection_poisoned) is over
    cur.execute(
        "UPDATE projection_poisoned SET resolved_at = now(), last_tried_at = now()"
        " WHERE stream_id = %s AND projection = ANY(%s) AND resolved_at IS NULL",
        (stream_id, names),
    )
    if head == 0:
        cur.execute(
            "DELETE FROM projection_streams WHERE stream_id = %s AND projection = ANY(%s)",
            (stream_id, names),
        )
        return
    STREAM_VERSIONS.upsert(cur, [(name, stream_id, head) for name in names])


def stored_rows(cur: Cursor[Any], tables: Sequence[str], stream_id: UUID) -> dict[str, Any]:
    """The stream's rows exactly as stored, every column (not the fold state a projection
    loads back, which leaves out derived columns): one table's rows, or `{table: rows}`.
    A table with one row per stream gives its columns; others key rows by the rest of
    their primary key (an invoice's id)."""
    rows = {table: _rows_of(cur, table, stream_id) for table in tables}
    return rows[tables[0]] if len(tables) == 1 else rows


def _rows_of(cur: Cursor[Any], table: str, stream_id: UUID) -> dict[str, Any]:
    keys = [k for k in _primary_key(cur, table) if k != "account_id"]
    query = sql.SQL("SELECT to_jsonb(t) - 'account_id' FROM {} t WHERE account_id = %s")
    cur.execute(query.format(sql.Identifier(table)), (stream_id,))
    found: list[dict[str, Any]] = [r[0] for r in cur.fetchall()]
    if not keys:
        return found[0] if found else {}
    return {".".join(str(row[k]) for k in keys): row for row in found}


def _primary_key(cur: Cursor[Any], table: str) -> list[str]:
    cur.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a"
        " ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
        " WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY a.attnum",
        (table,),
    )
    return [r[0] for r in cur.fetchall()]


def change_of(before: object, after: object) -> Change:
    """What differs between two fold states of one stream (either may be None)."""
    old, new = _flat(_plain(before)), _flat(_plain(after))
    keys = sorted(k for k in old.keys() | new.keys() if old.get(k, _ABSENT) != new.get(k, _ABSENT))
    return Change(
        changed=bool(keys),
        before={k: old[k] for k in keys if k in old},
        after={k: new[k] for k in keys if k in new},
    )


_ABSENT = object()


def _plain(state: object) -> Any:
    """A fold state as plain data: dataclasses (without fields excluded from comparison,
    like a batch's change set) and mappings become dicts."""
    if state is None:
        return {}
    if is_dataclass(state) and not isinstance(state, type):
        return {f.name: _plain_value(getattr(state, f.name)) for f in fields(state) if f.compare}
    if isinstance(state, Mapping):
        return {str(k): _plain_value(v) for k, v in state.items()}
    return {"state": state}


def _plain_value(value: object) -> Any:
    if (is_dataclass(value) and not isinstance(value, type)) or isinstance(value, Mapping):
        return _plain(value)
    return value


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as one level of dotted keys (lists and scalars are leaves)."""
    if not isinstance(data, dict) or (prefix and not data):
        return {prefix: data}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        flat.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat
