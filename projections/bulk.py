"""A fresh rebuild shadow, built without reading back what it wrote: every stream's state
kept in memory from the first event, each page's changed rows written with COPY.

The batched feed (`feed.catch_up`) pays, for every page, a lock, a load of the page's
streams' rows from the tables, a lock of their tracked versions and an upsert per changed
row. A shadow being built from position 0 has nobody else writing it, so `build` keeps the
states itself: per page it folds, deletes the rows of the page's streams that an earlier
page wrote, and COPYs their rows, versions and the position in one transaction (so the
shadow is consistent after every page, its progress shows, and an interrupted build
resumes from its position through the batched feed, which loads what it needs).

It stops (having committed every page before) at the first thing the batched feed handles
and it does not: an event it cannot read, a gap in a stream, a fold that raises, a row the
table refuses. The batched feed then carries on from the last page committed and parks
what must be parked. The rows are those the projection's `save` writes
(`Projection.rows`); tests/integration/test_rebuild.py compares a shadow built this way
with one built by the batched feed, table by table.

Memory: one state per stream of the store for the projection being rebuilt (a few KB per
account: a few GB for 1M accounts)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg import Connection, Cursor

from ledger.envelope import EventEnvelope
from projections.base import EventSource, Projection
from projections.poison import TRANSIENT
from projections.rows import TableRows
from projections.runtime import STREAM_VERSIONS, save_position

Progress = Callable[[int, int], None]


@dataclass
class Built:
    read: int  # events folded and committed
    finished: bool  # False: stopped at something the batched feed must handle


class _Irregular(Exception):
    """Something the batched feed handles (parks) and this pass does not."""


@dataclass
class _Folded:
    states: dict[UUID, Any]
    versions: dict[UUID, int]
    written: set[UUID]  # streams with rows committed by an earlier page


def build(
    conn: Connection[Any],
    projection: Projection[Any],
    source: EventSource,
    page: int,
    progress: Progress | None = None,
) -> Built:
    """Folds the store from position 0 into the empty tables on the search path."""
    folded = _Folded({}, {}, set())
    built = Built(0, False)
    position = 0
    while True:
        try:
            envelopes = source.read_after(position, page)
            if not envelopes:
                built.finished = True
                return built
            _apply_page(conn, projection, folded, envelopes)
        except TRANSIENT:
            raise
        except Exception:
            return built
        position = envelopes[-1].position
        built.read += len(envelopes)
        if progress:
            progress(len(envelopes), position)


def _apply_page(
    conn: Connection[Any],
    projection: Projection[Any],
    folded: _Folded,
    envelopes: Sequence[EventEnvelope],
) -> None:
    changed = _fold_page(projection, folded, envelopes)
    states = {sid: folded.states[sid] for sid in changed}
    rewritten = [sid for sid in changed if sid in folded.written]
    with conn.transaction(), conn.cursor() as cur:
        if rewritten:
            projection.delete(cur, rewritten)
            cur.execute(
                "DELETE FROM projection_streams WHERE projection = %s AND stream_id = ANY(%s)",
                (projection.name, rewritten),
            )
        _copy(cur, projection.rows(states))
        versions = [(projection.name, sid, folded.versions[sid]) for sid in changed]
        _copy(cur, [(STREAM_VERSIONS, versions)])
        save_position(cur, projection.name, list(envelopes), envelopes[-1].position)
    folded.written.update(changed)


def _fold_page(
    projection: Projection[Any], folded: _Folded, envelopes: Sequence[EventEnvelope]
) -> list[UUID]:
    """The page folded into the states (a failed page leaves them unusable: the caller
    stops and the batched feed reloads from the tables)."""
    states, versions = folded.states, folded.versions
    fold = projection.fold
    changed: dict[UUID, None] = {}
    for env in envelopes:
        sid = env.account_id
        if env.stream_version != versions.get(sid, 0) + 1:
            raise _Irregular(f"{sid}: version {env.stream_version}")
        states[sid] = fold(states.get(sid), env)
        versions[sid] = env.stream_version
        changed[sid] = None
    return list(changed)


def _copy(cur: Cursor[Any], tables: TableRows) -> None:
    for table, rows in tables:
        if rows:
            with cur.copy(f"COPY {table.table} ({table.listed}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
