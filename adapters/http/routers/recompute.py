"""Support (NinjaPanel): recompute one account's read models from its event stream."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from adapters.bootstrap import Container
from adapters.http.auth import Allow, Principal
from adapters.http.common import CorrelationId, ReasonBody, container_of, context
from adapters.recompute import recompute
from ledger.meta import ActorKind, Surface

Deps = Annotated[Container, Depends(container_of)]
SupportWriter = Annotated[Principal, Depends(Allow([ActorKind.SUPPORT], ["accounts:write"]))]

support = APIRouter(prefix="/support/accounts", tags=["support (NinjaPanel)"])


class ProjectionChange(BaseModel):
    changed: bool
    before: dict[str, Any]
    after: dict[str, Any]


class Recomputed(BaseModel):
    account_id: UUID
    version: int
    projections: dict[str, ProjectionChange]


@support.post("/{account_id}/recompute")
def support_recompute(
    account_id: UUID, body: ReasonBody, who: SupportWriter, c: Deps, cid: CorrelationId
) -> Recomputed:
    ctx = context(who, Surface.NINJAPANEL, cid, None, body.reason)
    result, changes = recompute(c, account_id, ctx)
    return Recomputed(
        account_id=account_id,
        version=result.version,
        projections={
            name: ProjectionChange(changed=ch.changed, before=ch.before, after=ch.after)
            for name, ch in changes.items()
        },
    )
