"""An account's audit history and its state as of a moment, straight from the event store.

Rows of `ledger_events` are decoded by a callable the caller supplies (the application's
mapper, wired in adapters/), so this module never imports adapters/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection
from pydantic import BaseModel, ConfigDict, model_validator

from ledger.account import Account
from ledger.envelope import EventEnvelope
from ledger.money import Money
from queries.ranges import check_ordered

# originator_id, originator_version, topic, state, notification_id
StoredRow = tuple[UUID, int, str, bytes, int]
ToEnvelopes = Callable[[list[StoredRow]], list[EventEnvelope]]
LoadAccount = Callable[[UUID, int], Account]
_BATCH = 200
_ROWS = (
    "SELECT e.originator_id, e.originator_version, e.topic, e.state, e.notification_id, h.hash"
    " FROM ledger_events e LEFT JOIN event_hashes h USING (originator_id, originator_version)"
    " WHERE e.originator_id = %s AND e.originator_version > %s"
    " ORDER BY e.originator_version LIMIT %s"
)


class HistoryEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: UUID
    event_type: str
    schema_version: int
    stream_version: int
    position: int
    occurred_at: datetime
    actor_id: str
    actor_kind: str
    surface: str
    reason: str | None
    correlation_id: UUID
    causation_id: UUID | None
    data: dict[str, Any]
    hash: str | None


class HistoryPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: UUID
    entries: list[HistoryEntry]
    next_after_version: int | None


class HistoryFilter(BaseModel):
    model_config = ConfigDict(frozen=True)

    types: frozenset[str] = frozenset()
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # inclusive

    @model_validator(mode="after")
    def _ordered(self) -> HistoryFilter:
        check_ordered(self.since, self.until)
        return self

    def admits(self, envelope: EventEnvelope) -> bool:
        at = envelope.occurred_at
        return (
            (not self.types or envelope.event_type in self.types)
            and (self.since is None or at >= self.since)
            and (self.until is None or at <= self.until)
        )


def account_history(
    conn: Connection[Any],
    account_id: UUID,
    decode: ToEnvelopes,
    *,
    after_version: int = 0,
    limit: int = 50,
    where: HistoryFilter | None = None,
) -> HistoryPage:
    """Up to `limit` matching events after `after_version`; `next_after_version` resumes."""
    where = where or HistoryFilter()
    entries: list[HistoryEntry] = []
    for envelope, digest in _stream(conn, account_id, decode, after_version):
        if where.admits(envelope):
            entries.append(_entry(envelope, digest))
            if len(entries) == limit:
                return HistoryPage(
                    account_id=account_id,
                    entries=entries,
                    next_after_version=envelope.stream_version,
                )
    return HistoryPage(account_id=account_id, entries=entries, next_after_version=None)


def _stream(
    conn: Connection[Any], account_id: UUID, decode: ToEnvelopes, after_version: int
) -> Iterator[tuple[EventEnvelope, bytes | None]]:
    while True:
        rows = conn.execute(_ROWS, (account_id, after_version, _BATCH)).fetchall()
        if not rows:
            return
        stored: list[StoredRow] = [(r[0], r[1], r[2], bytes(r[3]), r[4]) for r in rows]
        digests = [bytes(r[5]) if r[5] is not None else None for r in rows]
        yield from zip(decode(stored), digests, strict=True)
        after_version = rows[-1][1]


def _entry(envelope: EventEnvelope, digest: bytes | None) -> HistoryEntry:
    meta = envelope.meta
    return HistoryEntry(
        event_id=envelope.event_id,
        event_type=envelope.event_type,
        schema_version=envelope.schema_version,
        stream_version=envelope.stream_version,
        position=envelope.position,
        occurred_at=envelope.occurred_at,
        actor_id=meta["actor"]["id"],
        actor_kind=meta["actor"]["kind"],
        surface=meta["surface"],
        reason=meta.get("reason"),
        correlation_id=meta["correlation_id"],
        causation_id=meta.get("causation_id"),
        data=envelope.data,
        hash=digest.hex() if digest is not None else None,
    )


def version_at(
    conn: Connection[Any], account_id: UUID, decode: ToEnvelopes, at: datetime
) -> int | None:
    """The last version whose event, and every earlier one, occurred at or before `at`."""
    version: int | None = None
    for envelope, _ in _stream(conn, account_id, decode, 0):
        if envelope.occurred_at > at:
            break
        version = envelope.stream_version
    return version


def state_as_of(
    conn: Connection[Any],
    account_id: UUID,
    at: datetime,
    decode: ToEnvelopes,
    load: LoadAccount,
) -> dict[str, Any] | None:
    """The account replayed up to `at`, summarised; None if it did not exist yet."""
    version = version_at(conn, account_id, decode, at)
    if version is None:
        return None
    return {"as_of": at.isoformat(), **summarise(load(account_id, version))}


def summarise(account: Account) -> dict[str, Any]:
    return {
        "account_id": str(account.id),
        "version": account.version,
        "profile": asdict(account.profile),
        "status": account.status.value,
        "methods": {k: _method(account, k) for k in account.methods},
        "subscriptions": {k: _subscription(account, k) for k in account.subscriptions},
        "invoices": {k: i.status.value for k, i in account.invoices.items()},
        "receivable": _money(account.receivable),
        "credit_balance": _money(account.credit_balance),
        "bad_debt": account.bad_debt,
    }


def _method(account: Account, method_id: str) -> dict[str, Any]:
    method = account.methods[method_id]
    default = method_id == account.default_method_id
    return {"kind": method.kind.value, "state": method.state.value, "default": default}


def _subscription(account: Account, subscription_id: str) -> dict[str, Any]:
    sub = account.subscriptions[subscription_id]
    return {"plan_id": sub.plan_id, "status": sub.status.value, "period_end": str(sub.period_end)}


def _money(value: Money) -> dict[str, Any]:
    return {"amount": value.amount, "currency": value.currency}
