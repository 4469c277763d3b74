"""The customer surface (Dashboard): a customer reaches only its own account. Any other
account id answers 404, exactly as an account that does not exist."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from adapters.bootstrap import Container
from adapters.http.auth import Allow, Principal
from adapters.http.common import (
    AccountWritten,
    CorrelationId,
    ProfileChangesBody,
    container_of,
    context,
    owned_by,
    read_account,
    written,
    written_and_synced,
)
from commands import accounts
from commands.models import CloseAccount, UpdateProfile
from ledger.meta import ActorKind, Surface
from queries.accounts import AccountView

router = APIRouter(prefix="/v1/accounts", tags=["customer (Dashboard)"])
Deps = Annotated[Container, Depends(container_of)]
# Both check, first, that the path's account is the customer's own (common.owned_by).
Reader = Annotated[Principal, Depends(owned_by(Allow([ActorKind.CUSTOMER], ["accounts:read"])))]
Writer = Annotated[Principal, Depends(owned_by(Allow([ActorKind.CUSTOMER], ["accounts:write"])))]


@router.get("/{account_id}")
def get_own_account(
    account_id: UUID,
    who: Reader,
    c: Deps,
    min_version: Annotated[int | None, Query(ge=1)] = None,
) -> AccountView:
    return read_account(c, account_id, min_version)


@router.patch("/{account_id}")
def update_own_profile(
    account_id: UUID, body: ProfileChangesBody, who: Writer, c: Deps, cid: CorrelationId
) -> AccountWritten:
    cmd = UpdateProfile(account_id=account_id, **body.model_dump())
    ctx = context(who, Surface.DASHBOARD, cid, None)
    return written_and_synced(c.deps, accounts.update_profile(c.deps, cmd, ctx), ctx)


@router.post("/{account_id}/close")
def close_own_account(account_id: UUID, who: Writer, c: Deps, cid: CorrelationId) -> AccountWritten:
    cmd = CloseAccount(account_id=account_id)
    ctx = context(who, Surface.DASHBOARD, cid, None)
    return written(accounts.close_account(c.deps, cmd, ctx))
