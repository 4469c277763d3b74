"""Rebuild a projection from the event store into a shadow schema, compare, then swap.

1. `prepare`: a shadow schema `rebuild_<projection>` holds copies (`LIKE ... INCLUDING ALL`)
   of the projection's tables and of the tracking tables; a rerun after an interruption
   finds it and resumes from the shadow's own feed position.
2. `build`: the projection's unchanged code folds the store into the shadow (the shadow
   schema comes first on the search path); the live tables keep being served and fed.
3. `swap`: first, writers running, the shadow is caught up, every account's tracked version
   (live and shadow) noted and every account's rows compared by checksum. Then in ONE
   transaction, holding the projection's lock exclusively (which pauses every live writer:
   Kafka batches, the store feed, recomputes), the shadow catches up to the store's head,
   only the accounts that differed or whose tracked version moved since are compared again
   (rows and their version are written in one transaction), those that differ are replaced
   in the live tables, the live tracking takes the shadow's versions and the shadow schema
   is dropped. The pause costs what changed, plus one scan of the tracked versions. Readers
   see the old model until the commit and the new one after it; a paused consumer then
   resumes from its own offsets and skips, by stream version, whatever the rebuild already
   applied.

Poisoned events: the shadow has its own `projection_poisoned`, so an event the rebuild
cannot apply parks its stream in the shadow (the rebuild goes on with every other stream)
and the swap carries the parking into the live model with the rows: the live model then
stands exactly where the shadow does. A rebuild is therefore also a retry of every parked
stream of the projection: one it gets past is resolved, one it cannot apply stays parked.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from uuid import UUID

from psycopg import Connection, Cursor, sql
from psycopg.pq import TransactionStatus

from ledger.errors import DomainError, ErrorKind
from projections import bulk
from projections.base import EventSource, Projection
from projections.feed import ConnectionFactory, Progress, catch_up, feed_position
from projections.recompute import Change, change_of
from projections.runtime import projection_lock_key

TRACKING_TABLES = ("projection_streams", "projection_positions", "projection_poisoned")
DETAILED_CHANGES = 20  # field-level before/after for at most this many accounts


class RebuildInProgress(DomainError):
    """Another rebuild of this projection is running."""

    code = "rebuild_in_progress"
    kind = ErrorKind.CONFLICT


class DifferenceKind(StrEnum):
    MISSING = "missing"  # the rebuild has rows for the account, the live model none
    STALE = "stale"  # the live model has rows the rebuild does not
    BEHIND = "behind"  # live applied fewer of the stream's events (lag, not damage)
    DIFFERS = "differs"  # same events applied, different rows: the live rows were damaged


@dataclass(frozen=True)
class Difference:
    account_id: UUID
    kind: DifferenceKind
    tables: tuple[str, ...]


@dataclass(frozen=True)
class RebuildReport:
    projection: str
    resumed_from: int  # the shadow's feed position when this run started (0: fresh)
    position: int  # the store position the swapped model reached
    accounts_compared: int
    differences: list[Difference]
    changes: dict[UUID, Change] = field(default_factory=dict)
    paused_s: float = 0.0  # how long the live writers of the projection waited


def shadow_schema(projection: str) -> str:
    return f"rebuild_{projection}"


@contextmanager
def exclusive_rebuild(conn: Connection[Any], projection: str) -> Iterator[None]:
    """Holds a session lock for the whole rebuild (released if the process dies)."""
    key = _rebuild_lock_key(projection)
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
    if not row or not row[0]:
        raise RebuildInProgress(f"a rebuild of {projection} is already running")
    try:
        yield
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


def prepare(conn: Connection[Any], projection: Projection[Any], head: int, fresh: bool) -> int:
    """Makes (or finds, to resume) the shadow schema; returns the shadow's feed position."""
    schema = shadow_schema(projection.name)
    with conn.transaction():
        if fresh or not _resumable(conn, projection):
            _create_shadow(conn, projection, _current_schema(conn), schema)
            conn.execute(
                "INSERT INTO projection_rebuilds (projection, shadow_schema, phase, started_head)"
                " VALUES (%s, %s, 'building', %s) ON CONFLICT (projection) DO UPDATE SET"
                " phase = 'building', shadow_schema = EXCLUDED.shadow_schema,"
                " started_at = now(), started_head = EXCLUDED.started_head, swapped_at = NULL,"
                " swapped_position = NULL, accounts_compared = NULL, accounts_changed = NULL,"
                " updated_at = now()",
                (projection.name, schema, head),
            )
            return 0
    with on_schema(conn, schema):
        return feed_position(conn, projection.name)


def build(
    conn: Connection[Any],
    projection: Projection[Any],
    source: EventSource,
    batch_size: int = 1000,
    progress: Progress | None = None,
) -> int:
    """Folds the store into the shadow from where it stopped; returns events applied. A
    fresh shadow is built without reading back its own rows (projections/bulk.py), as far
    as that goes; the batched feed does the rest (resuming, parking)."""
    with on_schema(conn, shadow_schema(projection.name)):
        done = 0
        if feed_position(conn, projection.name) == 0:
            built = bulk.build(conn, projection, source, batch_size, progress)
            if built.finished:
                return built.read
            done = built.read
        return done + catch_up(_same(conn), projection, source, batch_size, progress)


def swap(
    conn: Connection[Any], projection: Projection[Any], source: EventSource, resumed_from: int
) -> RebuildReport:
    """Compares while the live writers run, then pauses them only to bring the shadow to
    the head, compare again the accounts that differed or moved since, replace what
    differs and drop the shadow, in one transaction."""
    schema = shadow_schema(projection.name)
    live = _current_schema(conn)
    with on_schema(conn, schema):
        catch_up(_same(conn), projection, source)  # most of the way, writers running
    first, compared = _first_pass(conn, projection, live, schema)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (projection_lock_key(projection.name),))
        paused_at = time.monotonic()
        with on_schema(conn, schema):
            catch_up(_same(conn), projection, source)
            position = feed_position(conn, projection.name)
        again = sorted({d.account_id for d in first} | _moved(conn, projection.name, live, schema))
        differences, _ = compare(conn, projection, live, schema, again)
        changes = _detailed_changes(conn, projection, differences[:DETAILED_CHANGES], schema)
        _replace(conn, projection, live, schema, [d.account_id for d in differences])
        _finish(conn, projection.name, schema, position, compared, len(differences))
        conn.execute("DROP TABLE IF EXISTS pg_temp.rebuild_seen")
    paused = time.monotonic() - paused_at
    return RebuildReport(
        projection.name, resumed_from, position, compared, differences, changes, paused
    )


def compare(
    conn: Connection[Any],
    projection: Projection[Any],
    live: str,
    shadow: str,
    accounts: Sequence[UUID] | None = None,
) -> tuple[list[Difference], int]:
    """Per-account checksums of every table of the projection, live against shadow (of
    these accounts only, when given)."""
    differing: dict[UUID, set[str]] = {}
    presence: dict[UUID, tuple[bool, bool]] = {}
    seen: set[UUID] = set()
    if accounts is not None and not accounts:
        return [], 0
    with conn.cursor() as cur:
        for table in projection.tables:
            for account_id, in_live, in_shadow, differs in _table_diff(
                cur, live, shadow, table, accounts
            ):
                seen.add(account_id)
                if differs:
                    differing.setdefault(account_id, set()).add(table)
                    was = presence.get(account_id, (False, False))
                    presence[account_id] = (was[0] or in_live, was[1] or in_shadow)
        versions = _tracked_versions(cur, projection.name, live, shadow, list(differing))
    differences = [
        Difference(a, _kind(presence[a], versions.get(a)), tuple(sorted(differing[a])))
        for a in sorted(differing)
    ]
    return differences, len(seen)


def _first_pass(
    conn: Connection[Any], projection: Projection[Any], live: str, shadow: str
) -> tuple[list[Difference], int]:
    """Every account compared, writers running: the tracked versions noted first, so an
    account whose rows a writer changes afterwards has moved by the time of the pause (rows
    and their version are written in one transaction) and is compared again then."""
    with conn.transaction():
        conn.execute("DROP TABLE IF EXISTS pg_temp.rebuild_seen")
        conn.execute(
            sql.SQL("CREATE TEMP TABLE rebuild_seen AS SELECT * FROM ({}) versions").format(
                _versions(live, shadow)
            ),
            {"p": projection.name},
        )
    with conn.transaction():
        return compare(conn, projection, live, shadow)


def _moved(conn: Connection[Any], projection: str, live: str, shadow: str) -> set[UUID]:
    """Streams whose tracked version, live or in the shadow, is not what the first pass saw."""
    rows = conn.execute(
        sql.SQL(
            "SELECT now_.stream_id FROM ({}) now_ LEFT JOIN pg_temp.rebuild_seen seen"
            " USING (stream_id) WHERE seen.stream_id IS NULL"
            " OR now_.live IS DISTINCT FROM seen.live OR now_.shadow IS DISTINCT FROM seen.shadow"
        ).format(_versions(live, shadow)),
        {"p": projection},
    ).fetchall()
    return {r[0] for r in rows}


def _versions(live: str, shadow: str) -> sql.Composed:
    """Per stream of the projection `%(p)s`: its tracked version live and in the shadow."""
    return sql.SQL(
        "SELECT COALESCE(l.stream_id, s.stream_id) AS stream_id, l.version AS live,"
        " s.version AS shadow"
        " FROM (SELECT stream_id, version FROM {}.projection_streams WHERE projection = %(p)s) l"
        " FULL JOIN (SELECT stream_id, version FROM {}.projection_streams"
        " WHERE projection = %(p)s) s USING (stream_id)"
    ).format(sql.Identifier(live), sql.Identifier(shadow))


@contextmanager
def on_schema(conn: Connection[Any], schema: str) -> Iterator[None]:
    """Unqualified table names resolve to `schema` first (then the usual path)."""
    with conn.transaction():
        conn.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(schema)))
    try:
        yield
    finally:
        if conn.info.transaction_status != TransactionStatus.INERROR:  # else rolled back
            with conn.transaction():
                conn.execute("RESET search_path")


def _rebuild_lock_key(projection: str) -> int:
    digest = hashlib.blake2b(b"rebuild:" + projection.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def _borrowed(conn: Connection[Any]) -> Iterator[Connection[Any]]:
    yield conn


def _same(conn: Connection[Any]) -> ConnectionFactory:
    """A factory that hands out `conn` itself (the swap's final catch-up runs inside the
    swap's transaction)."""
    return lambda: _borrowed(conn)


def _current_schema(conn: Connection[Any]) -> str:
    row = conn.execute("SELECT current_schema()").fetchone()
    assert row is not None
    return str(row[0])


def _resumable(conn: Connection[Any], projection: Projection[Any]) -> bool:
    """A 'building' rebuild whose shadow tables still have the live tables' columns."""
    row = conn.execute(
        "SELECT phase FROM projection_rebuilds WHERE projection = %s FOR UPDATE",
        (projection.name,),
    ).fetchone()
    if not row or row[0] != "building":
        return False
    schema = shadow_schema(projection.name)
    live = _current_schema(conn)
    tables = [*projection.tables, *TRACKING_TABLES]
    return all(_columns(conn, schema, t) == _columns(conn, live, t) for t in tables)


def _columns(conn: Connection[Any], schema: str, table: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        (schema, table),
    ).fetchall()


def _create_shadow(
    conn: Connection[Any], projection: Projection[Any], live: str, schema: str
) -> None:
    ident = sql.Identifier(schema)
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(ident))
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(ident))
    for table in [*projection.tables, *TRACKING_TABLES]:
        conn.execute(
            sql.SQL("CREATE TABLE {}.{} (LIKE {}.{} INCLUDING ALL)").format(
                ident, sql.Identifier(table), sql.Identifier(live), sql.Identifier(table)
            )
        )


_CHECKSUMS = """
    SELECT account_id, md5(string_agg(h, '' ORDER BY h)) AS sum
    FROM (SELECT account_id, md5(t::text) AS h FROM {schema}.{table} t {where}) rows
    GROUP BY account_id
"""


def _table_diff(
    cur: Cursor[Any],
    live: str,
    shadow: str,
    table: str,
    accounts: Sequence[UUID] | None = None,
) -> list[tuple[UUID, bool, bool, bool]]:
    """(account, has live rows, has shadow rows, differs) for every account of the table
    (or of these accounts)."""
    where = sql.SQL("" if accounts is None else "WHERE t.account_id = ANY(%(a)s)")

    def sums(schema: str) -> sql.Composed:
        return sql.SQL(_CHECKSUMS).format(
            schema=sql.Identifier(schema), table=sql.Identifier(table), where=where
        )

    cur.execute(
        sql.SQL(
            "SELECT COALESCE(l.account_id, s.account_id), l.sum IS NOT NULL, s.sum IS NOT NULL,"
            " l.sum IS DISTINCT FROM s.sum FROM ({}) l FULL JOIN ({}) s USING (account_id)"
        ).format(sums(live), sums(shadow)),
        {"a": list(accounts or [])},
    )
    return [(r[0], r[1], r[2], r[3]) for r in cur.fetchall()]


def _tracked_versions(
    cur: Cursor[Any], projection: str, live: str, shadow: str, accounts: list[UUID]
) -> dict[UUID, tuple[int | None, int | None]]:
    cur.execute(
        sql.SQL(
            "SELECT a, l.version, s.version FROM unnest(%s::uuid[]) a"
            " LEFT JOIN {}.projection_streams l ON l.projection = %s AND l.stream_id = a"
            " LEFT JOIN {}.projection_streams s ON s.projection = %s AND s.stream_id = a"
        ).format(sql.Identifier(live), sql.Identifier(shadow)),
        (accounts, projection, projection),
    )
    return {r[0]: (r[1], r[2]) for r in cur.fetchall()}


def _kind(
    presence: tuple[bool, bool], versions: tuple[int | None, int | None] | None
) -> DifferenceKind:
    in_live, in_shadow = presence
    if not in_live:
        return DifferenceKind.MISSING
    if not in_shadow:
        return DifferenceKind.STALE
    live_version, shadow_version = versions or (None, None)
    if live_version != shadow_version:
        return DifferenceKind.BEHIND
    return DifferenceKind.DIFFERS


def _detailed_changes(
    conn: Connection[Any],
    projection: Projection[Any],
    differences: Sequence[Difference],
    schema: str,
) -> dict[UUID, Change]:
    ids = [d.account_id for d in differences]
    if not ids:
        return {}
    with conn.cursor() as cur:
        before = projection.load(cur, ids)
    with on_schema(conn, schema), conn.cursor() as cur:
        after = projection.load(cur, ids)
    return {a: change_of(before.get(a), after.get(a)) for a in ids}


def _replace(
    conn: Connection[Any],
    projection: Projection[Any],
    live: str,
    shadow: str,
    accounts: list[UUID],
) -> None:
    lv, sh = sql.Identifier(live), sql.Identifier(shadow)
    for table in projection.tables:
        t = sql.Identifier(table)
        conn.execute(
            sql.SQL("DELETE FROM {}.{} WHERE account_id = ANY(%s)").format(lv, t), (accounts,)
        )
        conn.execute(
            sql.SQL("INSERT INTO {}.{} SELECT * FROM {}.{} WHERE account_id = ANY(%s)").format(
                lv, t, sh, t
            ),
            (accounts,),
        )
    _replace_tracking(conn, projection.name, lv, sh)


def _replace_tracking(
    conn: Connection[Any], projection: str, live: sql.Identifier, shadow: sql.Identifier
) -> None:
    conn.execute(
        sql.SQL(
            "DELETE FROM {lv}.projection_streams p WHERE p.projection = %(p)s AND NOT EXISTS"
            " (SELECT 1 FROM {sh}.projection_streams s"
            " WHERE s.projection = p.projection AND s.stream_id = p.stream_id)"
        ).format(lv=live, sh=shadow),
        {"p": projection},
    )
    conn.execute(
        sql.SQL(
            "INSERT INTO {lv}.projection_streams AS p SELECT * FROM {sh}.projection_streams"
            " WHERE projection = %(p)s ON CONFLICT (projection, stream_id) DO UPDATE"
            " SET version = EXCLUDED.version WHERE p.version <> EXCLUDED.version"
        ).format(lv=live, sh=shadow),
        {"p": projection},
    )
    conn.execute(
        sql.SQL(
            "INSERT INTO {lv}.projection_positions AS p SELECT * FROM {sh}.projection_positions"
            " WHERE projection = %(p)s ON CONFLICT (projection) DO UPDATE SET"
            " max_position = EXCLUDED.max_position, feed_position = EXCLUDED.feed_position,"
            " last_event_at = EXCLUDED.last_event_at, updated_at = now()"
        ).format(lv=live, sh=shadow),
        {"p": projection},
    )
    _replace_parked(conn, projection, live, shadow)


def _replace_parked(
    conn: Connection[Any], projection: str, live: sql.Identifier, shadow: sql.Identifier
) -> None:
    """The live model now tracks what the shadow applied, so it is parked where the shadow
    is: a live parking the rebuild got past is resolved, a stream the rebuild could not
    apply is parked (or stays parked, its history kept) at the event the rebuild stopped at."""
    conn.execute(
        sql.SQL(
            "UPDATE {lv}.projection_poisoned p SET resolved_at = now()"
            " WHERE p.projection = %(p)s AND p.resolved_at IS NULL AND NOT EXISTS"
            " (SELECT 1 FROM {sh}.projection_poisoned s WHERE s.projection = p.projection"
            " AND s.stream_id = p.stream_id AND s.resolved_at IS NULL)"
        ).format(lv=live, sh=shadow),
        {"p": projection},
    )
    conn.execute(
        sql.SQL(
            "INSERT INTO {lv}.projection_poisoned AS p (projection, stream_id, version,"
            " position, event_type, error, correlation_id)"
            " SELECT projection, stream_id, version, position, event_type, error, correlation_id"
            " FROM {sh}.projection_poisoned WHERE projection = %(p)s AND resolved_at IS NULL"
            " ON CONFLICT (projection, stream_id) WHERE resolved_at IS NULL DO UPDATE SET"
            " version = EXCLUDED.version, position = EXCLUDED.position,"
            " event_type = EXCLUDED.event_type, error = EXCLUDED.error,"
            " correlation_id = EXCLUDED.correlation_id, attempts = p.attempts + 1,"
            " last_tried_at = now()"
        ).format(lv=live, sh=shadow),
        {"p": projection},
    )


def _finish(
    conn: Connection[Any],
    projection: str,
    schema: str,
    position: int,
    compared: int,
    changed: int,
) -> None:
    conn.execute(
        "UPDATE projection_rebuilds SET phase = 'swapped', swapped_at = now(),"
        " swapped_position = %s, accounts_compared = %s, accounts_changed = %s,"
        " updated_at = now() WHERE projection = %s",
        (position, compared, changed, projection),
    )
    conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
