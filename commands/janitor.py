"""The in-flight janitor: payment attempts whose outcome was never recorded (a crash between
the charge and the recording, a timeout) are resolved by asking the processor.

Per attempt: the processor's result is recorded as it is; an attempt the processor never
saw is recorded as failed with `not_received_by_processor` (a soft failure: nothing was
charged, so the invoice may be collected again under a new attempt id); a processor that
cannot be asked leaves the attempt pending for the next run. Recording is conditional on
the attempt still being in flight, so two janitors (or a janitor and a late webhook)
resolve it once.

An attempt waiting for the customer (3-D Secure) is left alone until its wait expires;
then it is cancelled at the processor first, so a late authentication can never capture
it, and recorded as the soft failure `authentication_not_completed` (on-session: the
invoice is voided and the purchase rolled back; off-session: dunning goes on). When the
cancel finds the payment already succeeded, the success is recorded instead; when the
processor still shows it waiting for the customer (the cancel was refused), nothing is
recorded and the next run tries again.

`record_if_in_flight` (also the webhooks' entry) cancels a waiting attempt at the processor
before it records a failure for it (`commands.outcomes.cancelled_first`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from uuid import UUID, uuid5

from commands.base import Deps, acting, load_account, meta_of
from commands.collect import apply_charge
from commands.models import CommandContext
from commands.outcomes import cancelled_first, note_refused_success, note_still_waiting
from commands.ports import ChargeResult, ProcessorUnavailable
from ledger.account import Account
from ledger.payments import AttemptStatus, PaymentAttempt

NOT_RECEIVED = "not_received_by_processor"


class Resolution(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NOT_RECEIVED = "not_received"  # recorded as a soft failure: nothing was charged
    EXPIRED = "expired"  # waited for the customer too long: cancelled, a soft failure
    WAITING = "waiting"  # the processor asks the customer to authenticate: now waiting
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
    """Resolves the account's attempts pending for longer than `older_than`, and those
    whose wait for the customer has expired."""
    now = deps.clock.now()
    account = load_account(deps.app, account_id)
    resolved = []
    for attempt in account.attempts.values():
        attempt_ctx = _per_attempt(ctx, attempt)
        if attempt.action_expired(now):
            resolved.append(_expire(deps, account_id, attempt, attempt_ctx))
        elif attempt.status is AttemptStatus.PENDING and attempt.started_at <= now - older_than:
            resolved.append(_resolve(deps, account_id, attempt, attempt_ctx))
    return resolved


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
    try:
        recorded = record_if_in_flight(deps, account_id, attempt.attempt_id, charge, ctx)
    except ProcessorUnavailable:  # it began waiting for the customer meanwhile
        return Resolved(account_id, attempt.attempt_id, Resolution.UNREACHABLE)
    if not recorded:
        return Resolved(account_id, attempt.attempt_id, Resolution.ALREADY_RESOLVED)
    if found is None:
        return Resolved(account_id, attempt.attempt_id, Resolution.NOT_RECEIVED)
    if charge.succeeded:
        return Resolved(account_id, attempt.attempt_id, Resolution.SUCCEEDED)
    waiting = load_account(deps.app, account_id).attempts[attempt.attempt_id].awaiting_customer
    kind = Resolution.WAITING if waiting else Resolution.FAILED
    return Resolved(account_id, attempt.attempt_id, kind)


def _expire(deps: Deps, account_id: UUID, attempt: PaymentAttempt, ctx: CommandContext) -> Resolved:
    try:
        charge = deps.gateway.cancel_charge(
            attempt.attempt_id, attempt.processor, attempt.processor_payment_id or ""
        )
    except ProcessorUnavailable:
        return Resolved(account_id, attempt.attempt_id, Resolution.UNREACHABLE)
    if charge.requires_action:  # the cancel was refused: a failure could still be paid
        note_still_waiting(account_id, attempt.attempt_id)
        return Resolved(account_id, attempt.attempt_id, Resolution.UNREACHABLE)

    def record(account: Account) -> Resolution | None:
        current = account.attempts.get(attempt.attempt_id)
        if current is None or not current.in_flight:
            note_refused_success(account, attempt.attempt_id, charge)
            return None  # a webhook recorded its outcome meanwhile
        if charge.succeeded:  # authenticated just before the cancel
            apply_charge(deps, account, attempt.attempt_id, charge, meta_of(deps, ctx))
            return Resolution.SUCCEEDED
        account.expire_action(attempt.attempt_id, meta_of(deps, ctx))
        return Resolution.EXPIRED

    recorded, _ = acting(deps, account_id, ctx, record)
    return Resolved(account_id, attempt.attempt_id, recorded or Resolution.ALREADY_RESOLVED)


def record_if_in_flight(
    deps: Deps, account_id: UUID, attempt_id: str, charge: ChargeResult, ctx: CommandContext
) -> bool:
    """Records a processor's outcome for an attempt still in flight (a requires-action
    answer makes a pending attempt wait for the customer); False (and nothing recorded)
    when it is unknown, already settled, already waiting and told so again, or `ctx`'s
    command id was seen. A failure for an attempt waiting for the customer is recorded
    only after the processor has cancelled the payment (a success found then is recorded
    instead); ProcessorUnavailable, and nothing recorded, when it cannot be asked."""
    charge = cancelled_first(deps, load_account(deps.app, account_id), attempt_id, charge)

    def record(account: Account) -> bool:
        return apply_charge(deps, account, attempt_id, charge, meta_of(deps, ctx), NOT_RECEIVED)

    recorded, _ = acting(deps, account_id, ctx, record)
    return bool(recorded)
