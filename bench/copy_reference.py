"""The physical reference: COPY of the same rows into a table shaped like ledger_events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import Connection

from bench.measure import Stopwatch, Throughput

TABLE = "bench_copy_events"
_CREATE = f"""
CREATE TABLE {TABLE} (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    notification_id bigserial,
    PRIMARY KEY (originator_id, originator_version)
);
CREATE UNIQUE INDEX {TABLE}_notification_id_idx ON {TABLE} (notification_id ASC);
"""
_COPY = f"COPY {TABLE} (originator_id, originator_version, topic, state) FROM STDIN (FORMAT BINARY)"
Row = tuple[Any, ...]


def copy_rows(conn: Connection[Any], rows: Sequence[Row], per_transaction: int) -> Throughput:
    """COPY (binary) `rows` into a fresh table with the event store's keys and indexes.

    `conn` is in autocommit mode; each chunk of `per_transaction` rows commits on its own.
    """
    conn.execute(_CREATE)
    watch = Stopwatch()
    for start in range(0, len(rows), per_transaction):
        with conn.transaction(), conn.cursor() as cur, cur.copy(_COPY) as copy:
            copy.set_types(["uuid", "int8", "text", "bytea"])
            for row in rows[start : start + per_transaction]:
                copy.write_row(row)
    seconds, busy = watch.seconds, watch.cpu()
    conn.execute(f"DROP TABLE {TABLE}")
    one_tx = per_transaction >= len(rows)
    return Throughput(
        key="copy" if one_tx else f"copy_chunked_{per_transaction}",
        stage="raw COPY, one transaction" if one_tx else f"raw COPY, {per_transaction} rows/tx",
        events=len(rows),
        seconds=seconds,
        cpu=busy,
        notes="psycopg cursor.copy, binary; same rows the application stores",
    )
