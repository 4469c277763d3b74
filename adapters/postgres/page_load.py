"""A page of accounts loaded in two queries (their last snapshots, then the events after
them) instead of two per account, as `app.repository.get` reads them one by one. Only on
PostgreSQL without an aggregate cache; elsewhere, and for any account the page could not
rebuild (missing, another aggregate type, a stored event that does not decode), the caller
loads one by one, and that load reports what is wrong."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import project_aggregate
from eventsourcing.persistence import EventStore, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder
from psycopg.sql import SQL, Identifier

from commands.application import LedgerApplication
from ledger.account import Account

_SNAPSHOTS = (
    "SELECT DISTINCT ON (originator_id) originator_id, originator_version, topic, state"
    " FROM {schema}.{table} WHERE originator_id = ANY(%s)"
    " ORDER BY originator_id, originator_version DESC"
)
_EVENTS = (
    "SELECT e.originator_id, e.originator_version, e.topic, e.state"
    " FROM unnest(%s::uuid[], %s::bigint[]) AS s(id, after)"
    " JOIN {schema}.{table} e ON e.originator_id = s.id AND e.originator_version > s.after"
    " ORDER BY e.originator_id, e.originator_version"
)


class PostgresPageLoader:
    """commands.ports.PageLoader over the application's PostgreSQL event store."""

    def __init__(self, app: LedgerApplication) -> None:
        self._app = app

    def load_page(self, account_ids: Sequence[UUID]) -> dict[UUID, Account]:
        return load_page(self._app, account_ids)


def load_page(app: LedgerApplication, account_ids: Sequence[UUID]) -> dict[UUID, Account]:
    """The accounts of the page that two queries could rebuild, by id."""
    events = _postgres(app.events)
    if events is None or app.repository.cache is not None:
        return {}
    snapshots = _postgres(app.snapshots) if app.snapshots is not None else None
    found = _select(snapshots, _SNAPSHOTS, [list(account_ids)]) if snapshots else []
    latest = {s.originator_id: s for s in found}
    after = [latest[i].originator_version if i in latest else 0 for i in account_ids]
    stored = _select(events, _EVENTS, [list(account_ids), after])
    by_id: dict[UUID, list[StoredEvent]] = {}
    for row in stored:
        by_id.setdefault(UUID(str(row.originator_id)), []).append(row)
    accounts = {}
    for account_id in account_ids:
        snapshot = latest.get(account_id)
        account = _rebuild(app, snapshot, by_id.get(account_id, []))
        if account is not None:
            accounts[account_id] = account
    return accounts


def _postgres(store: EventStore[Any] | None) -> EventStore[Any] | None:
    if store is None or not isinstance(store.recorder, PostgresAggregateRecorder):
        return None
    return store


def _select(store: EventStore[Any], query: str, params: list[Any]) -> list[StoredEvent]:
    recorder = store.recorder
    assert isinstance(recorder, PostgresAggregateRecorder)
    statement = SQL(query).format(
        schema=Identifier(recorder.datastore.schema),
        table=Identifier(recorder.events_table_name),
    )
    with recorder.datastore.get_connection() as conn, conn.cursor() as cur:
        cur.execute(statement, params)
        return [
            StoredEvent(
                originator_id=row["originator_id"],
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
            for row in cur.fetchall()
        ]


def _rebuild(
    app: LedgerApplication, snapshot: StoredEvent | None, stored: Iterable[StoredEvent]
) -> Account | None:
    """The account from its snapshot and the events after it, as the repository does;
    None when that fails (the one-by-one load then says why)."""
    try:
        first = (
            [app.snapshots.mapper.to_domain_event(snapshot)] if snapshot and app.snapshots else []
        )
        events = [*first, *(app.events.mapper.to_domain_event(s) for s in stored)]
        if not events:
            return None
        account = project_aggregate(None, events)
    except Exception:
        return None
    return account if isinstance(account, Account) else None
