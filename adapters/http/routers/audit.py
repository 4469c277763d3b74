"""Audit routes: an account's event history (support, service) and its state as of a moment."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import StringConstraints

from adapters.bootstrap import Container
from adapters.http.auth import Allow, Principal
from adapters.http.common import Instant, container_of, ordered
from commands.errors import AccountNotFound
from ledger.account import Account
from ledger.meta import ActorKind
from queries.audit import HistoryFilter, HistoryPage, account_history, state_as_of

Deps = Annotated[Container, Depends(container_of)]
SupportReader = Annotated[Principal, Depends(Allow([ActorKind.SUPPORT], ["accounts:read"]))]
ServiceReader = Annotated[Principal, Depends(Allow([ActorKind.SERVICE], ["accounts:read"]))]
# An event type is a class name (ledger.envelope.event_type_of), e.g. PaymentSucceeded.
EventType = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Za-z0-9]{0,99}$")]
Types = Annotated[list[EventType] | None, Query(alias="type", description="event types to keep")]
# ISO 8601 only (common.Instant); a moment without an offset is read as UTC.
From = Annotated[Instant | None, Query(alias="from", description="occurred at or after")]
To = Annotated[Instant | None, Query(alias="to", description="occurred at or before")]
AfterVersion = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=500)]

support = APIRouter(prefix="/support/accounts", tags=["support (NinjaPanel)"])
service = APIRouter(prefix="/internal/accounts", tags=["service (iAPI)"])
router = APIRouter()  # both surfaces, included by the app in one line


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


@support.get("/{account_id}/history")
def support_history(
    account_id: UUID,
    who: SupportReader,
    c: Deps,
    type: Types = None,
    since: From = None,
    until: To = None,
    after_version: AfterVersion = 0,
    limit: Limit = 50,
) -> HistoryPage:
    return _history(c, account_id, _filter(type, since, until), after_version, limit)


@service.get("/{account_id}/history")
def service_history(
    account_id: UUID,
    who: ServiceReader,
    c: Deps,
    type: Types = None,
    since: From = None,
    until: To = None,
    after_version: AfterVersion = 0,
    limit: Limit = 50,
) -> HistoryPage:
    return _history(c, account_id, _filter(type, since, until), after_version, limit)


@support.get("/{account_id}/as-of")
def support_as_of(
    account_id: UUID, who: SupportReader, c: Deps, at: Annotated[Instant, Query()]
) -> dict[str, Any]:
    def load(stream_id: UUID, version: int) -> Account:
        account: Account = c.app.repository.get(stream_id, version=version)
        return account

    with c.connection() as conn:
        state = state_as_of(conn, account_id, at, c.reader.decode_rows, load)
    if state is None:
        raise AccountNotFound()
    return state


router.include_router(support)
router.include_router(service)
