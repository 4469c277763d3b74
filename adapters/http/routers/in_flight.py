"""Resolving one account's payments in flight (support, scope `billing:write`, with a
reason): the janitor's work (commands/janitor.py) for one stuck account, now. Each attempt
pending longer than `older_than_minutes` is looked up at its processor and what the
processor says is recorded; a wait for the customer that expired is cancelled there first.
The answer says, per attempt, what was found and what it means."""

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated
from uuid import UUID

from fastapi import Depends
from pydantic import BaseModel, ConfigDict, Field

from adapters.http.surface import Call, Feature, HttpSurface, Route
from commands import janitor
from commands.base import load_account
from commands.models import Reason
from ledger.account import Account

MEANINGS = {
    janitor.Resolution.SUCCEEDED: "the processor charged it: recorded as paid",
    janitor.Resolution.FAILED: "the processor declined it: recorded as failed",
    janitor.Resolution.NOT_RECEIVED: "the processor never received it: nothing was charged,"
    " recorded as a failure the invoice can be collected again after",
    janitor.Resolution.EXPIRED: "the customer never authenticated: cancelled at the processor"
    " and recorded as failed",
    janitor.Resolution.WAITING: "the processor asks the customer to authenticate: now waiting"
    " for the customer",
    janitor.Resolution.UNREACHABLE: "the processor could not be asked: still in flight, try"
    " again later",
    janitor.Resolution.ALREADY_RESOLVED: "its outcome was recorded meanwhile (a webhook)",
}


class ResolveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    older_than_minutes: Annotated[
        int,
        Field(
            ge=1,
            le=10_080,
            description="only attempts pending at least this long (the console's stuck"
            " threshold is 15); waits for the customer are resolved once expired",
        ),
    ] = 15
    reason: Reason


class ResolvedAttempt(BaseModel):
    attempt_id: str
    invoice_id: str
    invoice_number: str | None = Field(description="the invoice's number (None while a draft)")
    amount: int = Field(description="minor units of `currency`")
    currency: str
    resolution: janitor.Resolution
    meaning: str = Field(description="the resolution in words")


class InFlightResolved(BaseModel):
    account_id: UUID
    resolved: list[ResolvedAttempt] = Field(
        description="every attempt looked at (empty: nothing was in flight long enough)"
    )
    version: int = Field(description="the account's stream version afterwards")
    unresolved: int = Field(description="attempts still in flight (processor unreachable)")


def resolve(call: Call, account_id: UUID, body: ResolveBody) -> InFlightResolved:
    """Resolves the account's attempts in flight as the caller, and says how."""
    deps = call.deps
    older_than = timedelta(minutes=body.older_than_minutes)
    before = load_account(deps.app, account_id)
    found = janitor.resolve_in_flight(deps, account_id, older_than, call.ctx(body))
    resolved = [_resolved(before, r) for r in found]
    return InFlightResolved(
        account_id=account_id,
        resolved=resolved,
        version=load_account(deps.app, account_id).version,
        unresolved=sum(r.resolution is janitor.Resolution.UNREACHABLE for r in found),
    )


def _resolved(before: Account, found: janitor.Resolved) -> ResolvedAttempt:
    attempt = before.attempts[found.attempt_id]
    return ResolvedAttempt(
        attempt_id=found.attempt_id,
        invoice_id=attempt.invoice_id,
        invoice_number=before.invoices[attempt.invoice_id].number,
        amount=attempt.amount.amount,
        currency=attempt.amount.currency,
        resolution=found.resolution,
        meaning=MEANINGS[found.resolution],
    )


def _resolve(s: HttpSurface) -> Callable[..., InFlightResolved]:
    caller = s.caller("billing:write", keyed=True)

    def resolve_in_flight(
        account_id: UUID, body: ResolveBody, call: Call = Depends(caller)
    ) -> InFlightResolved:
        return resolve(call, account_id, body)

    return resolve_in_flight


RESOLVE = Feature(
    (
        Route(
            "POST",
            "/accounts/{account_id}/payments/in-flight/resolve",
            _resolve,
            "{surface}_resolve_in_flight",
            "Resolve payments in flight",
            "Asks the processors about the account's payments pending longer than"
            " `older_than_minutes` (and cancels expired waits for the customer), records what"
            " they say, and answers per attempt what was found and what it means.",
        ),
    ),
    tag="billing",
)
