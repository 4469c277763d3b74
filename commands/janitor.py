"""The in-flight janitor: payment attempts whose outcome was never recorded (a crash between
the charge and the recording, a timeout) are resolved by asking the processor.

Per attempt: the processor's result is recorded as it is; an attempt the processor never
saw is recorded as failed with `not_received_by_processor` (a soft failure: nothing was
charged, so the invoice may be collected again under a new attempt id); a processor that
cannot be asked leaves the attempt pending for the next run. Recording is conditional on
the attempt still being in flight, so two janitors (or a janitor and a late webhook)
resolve it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from uuid import UUID, uuid5

from commands.base import Deps, acting, load_account, meta_of
from commands.models import CommandContext
from commands.ports import ChargeResult, ProcessorUnavailable
from ledger.account import Account
from ledger.payments import PaymentAttempt

NOT_RECEIVED = "not_received_by_processor"


class Resolution(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NOT_RECEIVED = "not_received"  # recorded as a soft failure: nothing was charged
    UNREACHABLE = "unreachable"  # the processor could not be asked: still pending
    ALREADY_RESOLVED = "already_resolved"  # someone else recorded it meanwhile


@dataclass(frozen=True)
class Resolved:
    account_id: UUID
    attempt_id: str
    resolution: Resolution


def resolve_in_flight(
    deps: Deps, account_id: UUID, older_than: timedelta, ctx: CommandContext
) -> list[Resolved]:
    """Resolves the account's attempts pending for longer than `older_than`."""
    cutoff = deps.clock.now() - older_than
    account = load_account(deps.app, account_id)
    stale = [a for a in account.attempts.values() if a.in_flight and a.started_at <= cutoff]
    return [_resolve(deps, account_id, attempt, _per_attempt(ctx, attempt)) for attempt in stale]


def _per_attempt(ctx: CommandContext, attempt: PaymentAttempt) -> CommandContext:
    """One command id per attempt, so resolving the first does not look like a replay of
    the others."""
    if ctx.command_id is None:
        return ctx
    return ctx.model_copy(update={"command_id": uuid5(ctx.command_id, attempt.attempt_id)})


def _resolve(
    deps: Deps, account_id: UUID, attempt: PaymentAttempt, ctx: CommandContext
) -> Resolved:
    try:
        found = deps.gateway.find_charge(attempt.attempt_id, attempt.processor)
    except ProcessorUnavailable:
        return Resolved(account_id, attempt.attempt_id, Resolution.UNREACHABLE)
    charge = found or ChargeResult(succeeded=False, decline_code=NOT_RECEIVED)
    if not record_if_in_flight(deps, account_id, attempt.attempt_id, charge, ctx):
        return Resolved(account_id, attempt.attempt_id, Resolution.ALREADY_RESOLVED)
    if found is None:
        return Resolved(account_id, attempt.attempt_id, Resolution.NOT_RECEIVED)
    kind = Resolution.SUCCEEDED if charge.succeeded else Resolution.FAILED
    return Resolved(account_id, attempt.attempt_id, kind)


def record_if_in_flight(
    deps: Deps, account_id: UUID, attempt_id: str, charge: ChargeResult, ctx: CommandContext
) -> bool:
    """Records a processor's outcome for an attempt still in flight; False (and nothing
    recorded) when it is unknown, already settled, or `ctx`'s command id was seen."""

    def record(account: Account) -> bool:
        current = account.attempts.get(attempt_id)
        if current is None or not current.in_flight:
            return False
        meta = meta_of(deps, ctx)
        if charge.succeeded:
            account.record_success(attempt_id, charge.processor_payment_id or attempt_id, meta)
        else:
            account.record_failure(attempt_id, charge.decline_code or NOT_RECEIVED, meta)
        return True

    recorded, _ = acting(deps, account_id, ctx, record)
    return bool(recorded)
