"""Reconciliation: what the last check of an account found (scope `accounts:read`); where
the surface offers it, checking it now and running an explicit repair with a reason (scope
`accounts:write`), answered with the re-check."""

from collections.abc import Callable
from uuid import UUID

import structlog
from fastapi import Depends
from pydantic import BaseModel, ConfigDict, Field

from adapters.bootstrap import Container
from adapters.http.surface import Call, Feature, HttpSurface, Route
from adapters.reconcile import reconcile_account, repair_and_recheck
from commands.models import Reason, RepairFields, RepairReconciliation
from ledger.errors import DomainError, ErrorKind
from queries.reconciliation import ReconciliationView, get_reconciliation

log = structlog.get_logger("reconciliation")


class NeverReconciled(DomainError):
    """This account has not been reconciled yet."""

    code = "never_reconciled"
    kind = ErrorKind.NOT_FOUND


class CheckBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    reason: Reason | None = Field(
        default=None,
        description="why support checks now: a check records no event, so it is kept in the"
        " request's log line",
    )


NO_REASON = CheckBody()  # a check with no body


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


def _last(s: HttpSurface) -> Callable[..., ReconciliationView]:
    caller = s.caller("accounts:read")

    def last(account_id: UUID, call: Call = Depends(caller)) -> ReconciliationView:
        return _stored(call.container, account_id)

    return last


def _check(s: HttpSurface) -> Callable[..., ReconciliationView]:
    caller = s.caller("accounts:write")

    def check(
        account_id: UUID, call: Call = Depends(caller), body: CheckBody = NO_REASON
    ) -> ReconciliationView:
        """Checks the account against the processors now (read only for the ledger)."""
        log.info("reconcile_now", account_id=str(account_id), actor=call.who.id, reason=body.reason)
        reconcile_account(call.container, account_id)
        return _stored(call.container, account_id)

    return check


def _repair(s: HttpSurface) -> Callable[..., Repaired]:
    caller = s.caller("accounts:write", keyed=True)

    def repair(
        account_id: UUID,
        body: RepairBody,
        call: Call = Depends(caller),
    ) -> Repaired:
        ctx = call.ctx(body)
        fields = body.model_dump(exclude={"reason"})
        cmd = RepairReconciliation(account_id=account_id, **fields)
        outcome, _ = repair_and_recheck(call.container, cmd, ctx)
        return Repaired(
            subject=outcome.subject,
            detail=outcome.detail,
            version=outcome.result.version,
            replayed=outcome.result.replayed,
            reconciliation=_stored(call.container, account_id),
        )

    return repair


REC = "/accounts/{account_id}/reconciliation"
LAST = Feature(
    (
        Route(
            "GET",
            REC,
            _last,
            "{surface}_reconciliation",
            "Last reconciliation",
            "What the last comparison of the account with the processors found.",
        ),
    )
)
CHECK_AND_REPAIR = Feature(
    (
        Route(
            "POST",
            REC,
            _check,
            "{surface}_check",
            "Reconcile now",
            "Compares the account with the processors now and stores the findings (an"
            " optional `reason` goes to the log line: a check records no event).",
        ),
        Route(
            "POST",
            f"{REC}/repairs",
            _repair,
            "{surface}_repair",
            "Repair a finding",
            "Runs one explicit repair, then re-checks the account.",
        ),
    )
)
