"""Reconciliation on the support (NinjaPanel) and service (iAPI) surfaces: what the last
check of an account found (scope `accounts:read`); support can also check it now and run
an explicit repair with a reason (scope `accounts:write`), answered with the re-check."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from adapters.bootstrap import Container
from adapters.http.auth import Allow, Principal
from adapters.http.common import (
    CorrelationId,
    IdempotencyKey,
    container_of,
    context,
    request_fingerprint,
)
from adapters.reconcile import reconcile_account, repair_and_recheck
from commands.models import Reason, RepairFields, RepairReconciliation
from ledger.errors import DomainError, ErrorKind
from ledger.meta import ActorKind, Surface
from queries.reconciliation import ReconciliationView, get_reconciliation

Deps = Annotated[Container, Depends(container_of)]
ServiceReader = Annotated[Principal, Depends(Allow([ActorKind.SERVICE], ["accounts:read"]))]
SupportReader = Annotated[Principal, Depends(Allow([ActorKind.SUPPORT], ["accounts:read"]))]
SupportWriter = Annotated[Principal, Depends(Allow([ActorKind.SUPPORT], ["accounts:write"]))]

service = APIRouter(prefix="/internal/accounts", tags=["service (iAPI)"])
support = APIRouter(prefix="/support/accounts", tags=["support (NinjaPanel)"])
router = APIRouter()


class NeverReconciled(DomainError):
    """This account has not been reconciled yet."""

    code = "never_reconciled"
    kind = ErrorKind.NOT_FOUND


class RepairBody(RepairFields):
    model_config = ConfigDict(extra="forbid")
    reason: Reason


class Repaired(BaseModel):
    subject: str
    detail: str
    version: int
    replayed: bool
    reconciliation: ReconciliationView


def _stored(c: Container, account_id: UUID) -> ReconciliationView:
    with c.connection() as conn:
        found = get_reconciliation(conn, account_id)
    if found is None:
        raise NeverReconciled()
    return found


@service.get("/{account_id}/reconciliation")
def service_reconciliation(account_id: UUID, who: ServiceReader, c: Deps) -> ReconciliationView:
    return _stored(c, account_id)


@support.get("/{account_id}/reconciliation")
def support_reconciliation(account_id: UUID, who: SupportReader, c: Deps) -> ReconciliationView:
    return _stored(c, account_id)


@support.post("/{account_id}/reconciliation")
def support_check(account_id: UUID, who: SupportWriter, c: Deps) -> ReconciliationView:
    """Checks the account against the processors now (read only for the ledger)."""
    reconcile_account(c, account_id)
    return _stored(c, account_id)


@support.post("/{account_id}/reconciliation/repairs")
def support_repair(
    account_id: UUID,
    body: RepairBody,
    who: SupportWriter,
    c: Deps,
    cid: CorrelationId,
    request: Request,
    key: IdempotencyKey = None,
) -> Repaired:
    keyed = request_fingerprint(request, body) if key is not None else None
    ctx = context(who, Surface.NINJAPANEL, cid, key, body.reason, keyed)
    fields = body.model_dump(exclude={"reason"})
    cmd = RepairReconciliation(account_id=account_id, **fields)
    outcome, _ = repair_and_recheck(c, cmd, ctx)
    return Repaired(
        subject=outcome.subject,
        detail=outcome.detail,
        version=outcome.result.version,
        replayed=outcome.result.replayed,
        reconciliation=_stored(c, account_id),
    )


router.include_router(service)
router.include_router(support)
