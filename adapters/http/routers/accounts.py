"""Account routes for the service (iAPI) and support (NinjaPanel) surfaces.

Both surfaces reach any account; support writes must carry a reason, recorded on the event.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, status

from adapters.bootstrap import Container
from adapters.http.auth import Allow, Principal
from adapters.http.common import (
    AccountWritten,
    CorrelationId,
    IdempotencyKey,
    MinVersion,
    OpenAccountBody,
    ProfileChangesBody,
    ReasonBody,
    SupportOpenAccountBody,
    SupportProfileChangesBody,
    container_of,
    context,
    read_account,
    request_fingerprint,
    written,
    written_and_synced,
)
from commands import accounts
from commands.models import CloseAccount, OpenAccount, UpdateProfile
from ledger.meta import ActorKind, Surface
from queries.accounts import AccountView, list_accounts

Deps = Annotated[Container, Depends(container_of)]

service = APIRouter(prefix="/internal/accounts", tags=["service (iAPI)"])
support = APIRouter(prefix="/support/accounts", tags=["support (NinjaPanel)"])

ServiceReader = Annotated[Principal, Depends(Allow([ActorKind.SERVICE], ["accounts:read"]))]
ServiceWriter = Annotated[Principal, Depends(Allow([ActorKind.SERVICE], ["accounts:write"]))]
SupportReader = Annotated[Principal, Depends(Allow([ActorKind.SUPPORT], ["accounts:read"]))]
SupportWriter = Annotated[Principal, Depends(Allow([ActorKind.SUPPORT], ["accounts:write"]))]


def _keyed(request: Request, body: OpenAccountBody, key: str | None) -> str | None:
    return request_fingerprint(request, body) if key is not None else None


@service.post("", status_code=status.HTTP_201_CREATED)
def service_open(
    body: OpenAccountBody,
    who: ServiceWriter,
    c: Deps,
    cid: CorrelationId,
    request: Request,
    key: IdempotencyKey = None,
) -> AccountWritten:
    ctx = context(who, Surface.IAPI, cid, key, request=_keyed(request, body, key))
    result = accounts.open_account(c.deps, OpenAccount(**body.model_dump()), ctx)
    return written_and_synced(c.deps, result, ctx)


@service.get("")
def service_list(
    who: ServiceReader, c: Deps, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[AccountView]:
    with c.connection() as conn:
        return list_accounts(conn, limit)


@service.get("/{account_id}")
def service_get(
    account_id: UUID, who: ServiceReader, c: Deps, min_version: MinVersion = None
) -> AccountView:
    return read_account(c, account_id, min_version)


@service.patch("/{account_id}")
def service_update(
    account_id: UUID, body: ProfileChangesBody, who: ServiceWriter, c: Deps, cid: CorrelationId
) -> AccountWritten:
    cmd = UpdateProfile(account_id=account_id, **body.model_dump())
    ctx = context(who, Surface.IAPI, cid, None)
    return written_and_synced(c.deps, accounts.update_profile(c.deps, cmd, ctx), ctx)


@service.post("/{account_id}/close")
def service_close(
    account_id: UUID, who: ServiceWriter, c: Deps, cid: CorrelationId
) -> AccountWritten:
    cmd = CloseAccount(account_id=account_id)
    return written(accounts.close_account(c.deps, cmd, context(who, Surface.IAPI, cid, None)))


@support.post("", status_code=status.HTTP_201_CREATED)
def support_open(
    body: SupportOpenAccountBody,
    who: SupportWriter,
    c: Deps,
    cid: CorrelationId,
    request: Request,
    key: IdempotencyKey = None,
) -> AccountWritten:
    keyed = _keyed(request, body, key)
    ctx = context(who, Surface.NINJAPANEL, cid, key, body.reason, keyed)
    cmd = OpenAccount(**body.model_dump(exclude={"reason"}))
    return written_and_synced(c.deps, accounts.open_account(c.deps, cmd, ctx), ctx)


@support.get("")
def support_list(
    who: SupportReader,
    c: Deps,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    status: str | None = None,
) -> list[AccountView]:
    with c.connection() as conn:
        return list_accounts(conn, limit, status)


@support.get("/{account_id}")
def support_get(
    account_id: UUID, who: SupportReader, c: Deps, min_version: MinVersion = None
) -> AccountView:
    return read_account(c, account_id, min_version)


@support.patch("/{account_id}")
def support_update(
    account_id: UUID,
    body: SupportProfileChangesBody,
    who: SupportWriter,
    c: Deps,
    cid: CorrelationId,
) -> AccountWritten:
    ctx = context(who, Surface.NINJAPANEL, cid, None, body.reason)
    cmd = UpdateProfile(account_id=account_id, **body.model_dump(exclude={"reason"}))
    return written_and_synced(c.deps, accounts.update_profile(c.deps, cmd, ctx), ctx)


@support.post("/{account_id}/close")
def support_close(
    account_id: UUID, body: ReasonBody, who: SupportWriter, c: Deps, cid: CorrelationId
) -> AccountWritten:
    ctx = context(who, Surface.NINJAPANEL, cid, None, body.reason)
    return written(accounts.close_account(c.deps, CloseAccount(account_id=account_id), ctx))
