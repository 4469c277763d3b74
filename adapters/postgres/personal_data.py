"""What forgetting and sealing do to PostgreSQL beyond recording events (the PersonalData
port of commands/forget.py).

`seal_stored` rewrites an account's events whose personal fields were stored in clear
(written before sealing existed) so those fields are sealed with the account's key. The
audit chain covers stored bytes, so the stream's chain is recomputed from the first
rewritten version on, in the same transaction, and every changed hash is written to
`event_rewrites` with its value before; `ledger audit verify` then passes on the new
chain. The table is locked against writers (not readers) while one account is rewritten,
so no event can be appended to a chain that is being recomputed.

`shred` destroys the account's data key and deletes its snapshots (the only stored copy
of its state in clear; the next snapshot is taken of the erased state)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from psycopg import Connection

from adapters.postgres.audit import ZERO_HASH, link_hash, verify
from commands.personal import DataKeys, PersonalDataMapper
from ledger.personal import PERSONAL_FIELDS

Connect = Callable[[], AbstractContextManager[Connection[Any]]]
REWRITE_REASON = "personal fields sealed (stored in clear before sealing existed)"

_EVENTS = (
    "SELECT originator_version, topic, state FROM ledger_events"
    " WHERE originator_id = %s ORDER BY originator_version"
)
_HASHES = "SELECT originator_version, hash FROM event_hashes WHERE originator_id = %s"
_ACCOUNTS_WITH_PERSONAL_DATA = (
    "SELECT DISTINCT originator_id FROM ledger_events WHERE topic = ANY(%s)"
    " AND originator_id > %s ORDER BY originator_id LIMIT %s"
)


class ChainAlreadyBroken(RuntimeError):
    """The stream's audit chain is broken already: rewriting it would hide that."""


class PostgresPersonalData:
    def __init__(self, connect: Connect, mapper: PersonalDataMapper, keys: DataKeys) -> None:
        self._connect = connect
        self._mapper = mapper
        self._keys = keys

    def seal_stored(self, account_id: UUID) -> int:
        """Seals the account's personal fields stored in clear; how many events changed."""
        with self._connect() as conn, conn.transaction():
            conn.execute("LOCK TABLE ledger_events IN EXCLUSIVE MODE")
            rows = conn.execute(_EVENTS, (account_id,)).fetchall()
            resealed = {
                version: sealed.state
                for version, topic, state in rows
                if (sealed := self._resealed(account_id, version, topic, state)) is not None
            }
            if not resealed:
                return 0
            if not (report := verify(conn, account_id)).ok:
                raise ChainAlreadyBroken(report.broken[0].describe())
            for version, state in resealed.items():
                conn.execute(
                    "UPDATE ledger_events SET state = %s"
                    " WHERE originator_id = %s AND originator_version = %s",
                    (state, account_id, version),
                )
            _rechain(conn, account_id, [(v, t, resealed.get(v, bytes(s))) for v, t, s in rows])
            return len(resealed)

    def shred(self, account_id: UUID) -> None:
        self._keys.destroy(account_id)
        with self._connect() as conn:
            conn.execute("DELETE FROM ledger_snapshots WHERE originator_id = %s", (account_id,))

    def accounts_with_personal_data(self, page: int = 500) -> Iterator[UUID]:
        topics = list(PERSONAL_FIELDS)
        after = UUID(int=0)
        while True:
            with self._connect() as conn:
                rows = conn.execute(_ACCOUNTS_WITH_PERSONAL_DATA, (topics, after, page)).fetchall()
            if not rows:
                return
            for (account_id,) in rows:
                yield account_id
            after = rows[-1][0]

    def _resealed(self, account_id: UUID, version: int, topic: str, state: Any) -> Any:
        stored = StoredEvent(account_id, version, topic, bytes(state))
        return self._mapper.resealed(stored)


def _rechain(conn: Connection[Any], account_id: UUID, rows: list[tuple[int, str, bytes]]) -> None:
    """Recomputes the stream's (verified) chain; every changed hash is logged with its old
    value."""
    before = dict(conn.execute(_HASHES, (account_id,)).fetchall())
    prev = ZERO_HASH
    for version, topic, state in rows:
        new = link_hash(prev, account_id, version, topic or "", state)
        old = bytes(before[version])  # present: the chain was verified whole
        if old != new:
            conn.execute(
                "UPDATE event_hashes SET hash = %s"
                " WHERE originator_id = %s AND originator_version = %s",
                (new, account_id, version),
            )
            conn.execute(
                "INSERT INTO event_rewrites"
                " (originator_id, originator_version, reason, hash_before, hash_after)"
                " VALUES (%s, %s, %s, %s, %s)",
                (account_id, version, REWRITE_REASON, old, new),
            )
        prev = new
