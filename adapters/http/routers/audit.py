"""Audit routes: an account's event history, and its state as of a moment (scope
`accounts:read`)."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query
from pydantic import StringConstraints

from adapters.bootstrap import Container
from adapters.http.common import Instant, ordered
from adapters.http.surface import Call, Feature, HttpSurface, Route
from commands.errors import AccountNotFound
from ledger.account import Account
from queries.audit import HistoryFilter, HistoryPage, account_history, state_as_of

# An event type is a class name (ledger.envelope.event_type_of), e.g. PaymentSucceeded.
EventType = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Za-z0-9]{0,99}$")]
Types = Annotated[list[EventType] | None, Query(alias="type", description="event types to keep")]
# ISO 8601 only (common.Instant); a moment without an offset is read as UTC.
From = Annotated[Instant | None, Query(alias="from", description="occurred at or after")]
To = Annotated[Instant | None, Query(alias="to", description="occurred at or before")]
AfterVersion = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=500)]


def _filter(
    types: list[str] | None, since: datetime | None, until: datetime | None
) -> HistoryFilter:
    ordered("from", since, "to", until)
    return HistoryFilter(types=frozenset(types or ()), since=since, until=until)


def _history(
    c: Container, account_id: UUID, where: HistoryFilter, after: int, limit: int
) -> HistoryPage:
    with c.connection() as conn:
        page = account_history(
            conn, account_id, c.reader.decode_rows, after_version=after, limit=limit, where=where
        )
        if not page.entries and not _exists(conn, account_id):
            raise AccountNotFound()
    return page


def _exists(conn: Any, account_id: UUID) -> bool:
    sql = "SELECT 1 FROM ledger_events WHERE originator_id = %s LIMIT 1"
    return conn.execute(sql, (account_id,)).fetchone() is not None


def _history_route(s: HttpSurface) -> Callable[..., HistoryPage]:
    caller = s.caller("accounts:read")

    def history(
        account_id: UUID,
        call: Call = Depends(caller),
        type: Types = None,
        since: From = None,
        until: To = None,
        after_version: AfterVersion = 0,
        limit: Limit = 50,
    ) -> HistoryPage:
        where = _filter(type, since, until)
        return _history(call.container, account_id, where, after_version, limit)

    return history


def _as_of(s: HttpSurface) -> Callable[..., dict[str, Any]]:
    caller = s.caller("accounts:read")

    def as_of(
        account_id: UUID,
        at: Annotated[Instant, Query()],
        call: Call = Depends(caller),
    ) -> dict[str, Any]:
        c = call.container

        def load(stream_id: UUID, version: int) -> Account:
            account: Account = c.app.repository.get(stream_id, version=version)
            return account

        with c.connection() as conn:
            state = state_as_of(conn, account_id, at, c.reader.decode_rows, load)
        if state is None:
            raise AccountNotFound()
        return state

    return as_of


HISTORY = Feature(
    (
        Route(
            "GET",
            "/accounts/{account_id}/history",
            _history_route,
            "{surface}_history",
            "Account event history",
            "The account's events, oldest first, filtered by type and time, a page at a time.",
        ),
    )
)
AS_OF = Feature(
    (
        Route(
            "GET",
            "/accounts/{account_id}/as-of",
            _as_of,
            "{surface}_as_of",
            "Account state as of a moment",
            "The account as it was at the given time, replayed from its events.",
        ),
    )
)
