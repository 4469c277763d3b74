"""An account's audit history and its state as of a moment, straight from the event store.

Rows of `ledger_events` are decoded by a callable the caller supplies (the application's
mapper, wired in adapters/), so this module never imports adapters/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import resolve_topic
from psycopg import Connection
from pydantic import BaseModel, ConfigDict, model_validator

from ledger.account import Account
from ledger.account.registry import public_name
from ledger.envelope import EventEnvelope
from ledger.money import Money
from queries.ranges import check_ordered

# originator_id, originator_version, topic, state, notification_id
StoredRow = tuple[UUID, int, str, bytes, int]
ToEnvelopes = Callable[[list[StoredRow]], list[EventEnvelope]]
LoadAccount = Callable[[UUID, int], Account]
_BATCH = 200
_NO_VERSION_ABOVE = 2**62  # before this version: from the latest event
_SELECT = (
    "SELECT e.originator_id, e.originator_version, e.topic, e.state, e.notification_id, h.hash"
    " FROM ledger_events e LEFT JOIN event_hashes h USING (originator_id, originator_version)"
)
_ROWS = _SELECT + (
    " WHERE e.originator_id = %s AND e.originator_version > %s"
    " ORDER BY e.originator_version LIMIT %s"
)
_ROWS_BACK = _SELECT + (
    " WHERE e.originator_id = %s AND e.originator_version < %s"
    " ORDER BY e.originator_version DESC LIMIT %s"
)
_TOPICS = "SELECT DISTINCT topic FROM ledger_events WHERE originator_id = %s"


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


class RecentHistoryPage(BaseModel):
    """A page of the history newest first; `next_before_version` resumes with older events."""

    model_config = ConfigDict(frozen=True)

    account_id: UUID
    entries: list[HistoryEntry]
    next_before_version: int | None


class HistoryFilter(BaseModel):
    model_config = ConfigDict(frozen=True)

    types: frozenset[str] = frozenset()
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # inclusive
    correlation_id: UUID | None = None  # only the events of one request

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
            and (self.correlation_id is None or self._correlated(envelope))
        )

    def _correlated(self, envelope: EventEnvelope) -> bool:
        return str(envelope.meta.get("correlation_id")) == str(self.correlation_id)


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
    stream = _stream(conn, account_id, decode, after_version)
    entries, resume = _page(stream, where or HistoryFilter(), limit)
    return HistoryPage(account_id=account_id, entries=entries, next_after_version=resume)


def recent_history(
    conn: Connection[Any],
    account_id: UUID,
    decode: ToEnvelopes,
    *,
    before_version: int | None = None,
    limit: int = 50,
    where: HistoryFilter | None = None,
) -> RecentHistoryPage:
    """Newest first: up to `limit` matching events before `before_version` (None: from the
    latest); `next_before_version` resumes with older ones."""
    stream = _stream_back(conn, account_id, decode, before_version)
    entries, resume = _page(stream, where or HistoryFilter(), limit)
    return RecentHistoryPage(account_id=account_id, entries=entries, next_before_version=resume)


def event_types_present(conn: Connection[Any], account_id: UUID) -> list[str]:
    """The public names of the event types in the account's stream, sorted."""
    topics = [row[0] for row in conn.execute(_TOPICS, (account_id,)).fetchall()]
    return sorted({public_name(resolve_topic(topic)) for topic in topics})


def _page(
    stream: Iterable[tuple[EventEnvelope, bytes | None]], where: HistoryFilter, limit: int
) -> tuple[list[HistoryEntry], int | None]:
    """The first `limit` admitted entries, and the version to resume from: None when no
    admitted entry follows (one more is read to know), so a last page never links to an
    empty one."""
    entries: list[HistoryEntry] = []
    for envelope, digest in stream:
        if where.admits(envelope):
            if len(entries) == limit:
                return entries, entries[-1].stream_version
            entries.append(_entry(envelope, digest))
    return entries, None


def _stream(
    conn: Connection[Any], account_id: UUID, decode: ToEnvelopes, after_version: int
) -> Iterator[tuple[EventEnvelope, bytes | None]]:
    while True:
        rows = conn.execute(_ROWS, (account_id, after_version, _BATCH)).fetchall()
        if not rows:
            return
        yield from _decoded(rows, decode)
        after_version = rows[-1][1]


def _stream_back(
    conn: Connection[Any], account_id: UUID, decode: ToEnvelopes, before_version: int | None
) -> Iterator[tuple[EventEnvelope, bytes | None]]:
    before = before_version if before_version is not None else _NO_VERSION_ABOVE
    while True:
        rows = conn.execute(_ROWS_BACK, (account_id, before, _BATCH)).fetchall()
        if not rows:
            return
        yield from _decoded(rows, decode)
        before = rows[-1][1]


def _decoded(
    rows: list[tuple[Any, ...]], decode: ToEnvelopes
) -> Iterator[tuple[EventEnvelope, bytes | None]]:
    stored: list[StoredRow] = [(r[0], r[1], r[2], bytes(r[3]), r[4]) for r in rows]
    digests = [bytes(r[5]) if r[5] is not None else None for r in rows]
    yield from zip(decode(stored), digests, strict=True)


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
