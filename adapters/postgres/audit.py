"""Recomputes the tamper-evident audit chain (migrations/0005_audit_chain.sql) and compares.

hash(v) = sha256(hash(v-1) || uuid bytes || str(v) || topic || state), hash(0) = 32 zero
bytes. The store is read in pages of (event, hash) pairs, joined in full so that a missing
hash row and an event deleted after it was hashed are both seen; the first broken link of
every stream is reported.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from psycopg import Connection

ZERO_HASH = bytes(32)
PAGE = 1000

_PAGE_SQL = """
SELECT originator_id, originator_version, e.topic, e.state, h.hash, e.present
FROM (SELECT originator_id, originator_version, topic, state, true AS present
      FROM ledger_events WHERE (originator_id, originator_version) > (%(id)s, %(v)s) {only}
      ORDER BY originator_id, originator_version LIMIT %(n)s) e
FULL JOIN (SELECT originator_id, originator_version, hash
      FROM event_hashes WHERE (originator_id, originator_version) > (%(id)s, %(v)s) {only}
      ORDER BY originator_id, originator_version LIMIT %(n)s) h
USING (originator_id, originator_version)
ORDER BY originator_id, originator_version LIMIT %(n)s
"""
_ONLY = "AND originator_id = %(account)s"


@dataclass(frozen=True)
class BrokenLink:
    stream_id: UUID
    version: int
    problem: str  # hash_mismatch | missing_hash | event_deleted
    expected: str | None  # hex
    recorded: str | None  # hex

    def describe(self) -> str:
        return (
            f"stream {self.stream_id} version {self.version}: {self.problem}"
            f" (expected {self.expected or '-'}, recorded {self.recorded or '-'})"
        )


@dataclass
class VerifyReport:
    streams: int = 0
    events: int = 0
    verified: int = 0
    broken: list[BrokenLink] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken


def link_hash(prev: bytes, stream_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    data = prev + stream_id.bytes + str(version).encode() + topic.encode() + state
    return hashlib.sha256(data).digest()


@dataclass
class _Stream:
    stream_id: UUID
    prev: bytes = ZERO_HASH
    version: int = 0
    broken: bool = False


def verify(
    conn: Connection[Any],
    account_id: UUID | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Walks every stream (or one account's) in version order; `progress(events_so_far)`."""
    report = VerifyReport()
    stream: _Stream | None = None
    for page in _pages(conn, account_id):
        for row in page:
            if stream is None or stream.stream_id != row[0]:
                stream = _Stream(row[0])
                report.streams += 1
            _check(report, stream, row)
        if progress:
            progress(report.events)
    return report


def _pages(conn: Connection[Any], account_id: UUID | None) -> Iterator[list[tuple[Any, ...]]]:
    sql = _PAGE_SQL.format(only=_ONLY if account_id else "")
    after: tuple[UUID, int] = (UUID(int=0), 0)
    while True:
        params = {"id": after[0], "v": after[1], "n": PAGE, "account": account_id}
        rows = conn.execute(sql, params).fetchall()
        if not rows:
            return
        yield rows
        after = (rows[-1][0], rows[-1][1])


def _check(report: VerifyReport, stream: _Stream, row: tuple[Any, ...]) -> None:
    stream_id, version, topic, state, recorded, present = row
    report.events += bool(present)
    if stream.broken:
        return
    problem, expected = _judge(stream, version, topic, state, recorded, present)
    if problem:
        stream.broken = True
        deleted = problem == "event_deleted"  # the missing version is the one after the last
        at, shown = (stream.version + 1, None) if deleted else (version, recorded)
        report.broken.append(BrokenLink(stream_id, at, problem, _hex(expected), _hex(shown)))
        return
    report.verified += 1
    stream.prev, stream.version = bytes(recorded), version


def _judge(
    stream: _Stream, version: int, topic: str | None, state: Any, recorded: Any, present: Any
) -> tuple[str | None, bytes | None]:
    if version != stream.version + 1:
        return "event_deleted", None  # a gap: version stream.version + 1 is gone
    if not present:
        return "event_deleted", None
    expected = link_hash(stream.prev, stream.stream_id, version, topic or "", bytes(state or b""))
    if recorded is None:
        return "missing_hash", expected
    return ("hash_mismatch" if bytes(recorded) != expected else None), expected


def _hex(value: Any) -> str | None:
    return bytes(value).hex() if value is not None else None
