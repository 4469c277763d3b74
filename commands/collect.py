"""Collecting an invoice: start an attempt (saved first, so a crash leaves a visible pending
attempt, never an unrecorded charge), charge with the attempt id as idempotency key, record
the outcome. An unknown outcome (timeout) leaves the attempt pending for the janitor.

When the processor asks the customer to authenticate (3-D Secure), the attempt waits
(`PaymentActionRequired`) and the caller gets the client secret for the customer's
browser; the webhook or the janitor records the outcome later. The client secret is never
stored: the same request again asks the processor for it again."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import structlog

from commands.base import (
    CommandResult,
    Deps,
    acted,
    follow_up,
    load_account,
    meta_of,
    refuse_other_request,
    replayed,
)
from commands.errors import CommandInFlight
from commands.models import CommandContext
from commands.outcomes import cancelled_first, note_refused_success
from commands.ports import ChargeRequest, ChargeResult
from ledger.account import Account
from ledger.meta import EventMeta
from ledger.methods import MethodNotFound
from ledger.payments import AttemptPurpose, AttemptStatus, PaymentAttempt

log = structlog.get_logger("collect")


@dataclass(frozen=True)
class PaymentOutcome:
    attempt_id: str
    invoice_id: str
    status: AttemptStatus
    decline_code: str | None
    result: CommandResult
    client_secret: str | None = None  # while the customer must authenticate (requires_action)


def collect(
    deps: Deps,
    account_id: UUID,
    invoice_id: str,
    method_id: str | None,
    purpose: AttemptPurpose,
    attempt_id: str,
    ctx: CommandContext,
) -> PaymentOutcome:
    """The attempt is started as a step of the command (`follow_up`); its outcome is
    recorded as the command's answer (its id and fingerprint), so the account remembers the
    command at the version the first request answered with, and a repeat answers the same."""
    account = load_account(deps.app, account_id)
    return collect_on(deps, account, invoice_id, method_id, purpose, attempt_id, ctx)[0]


def collect_on(
    deps: Deps,
    account: Account,
    invoice_id: str,
    method_id: str | None,
    purpose: AttemptPurpose,
    attempt_id: str,
    ctx: CommandContext,
) -> tuple[PaymentOutcome, Account]:
    """`collect` on the account as the caller holds it (loaded, or as the command's step
    before saved it); also returns the account as the collection left it. Each step acts on
    the account the step before saved: one load for the whole collection."""
    step = follow_up(ctx)
    refuse_other_request(account, ctx)
    if attempt_id in account.attempts:
        return _again(deps, account, account.attempts[attempt_id], ctx)

    def start(account: Account) -> tuple[PaymentAttempt, ChargeRequest | None]:
        if attempt_id in account.attempts:  # a concurrent run of the same request started it
            return account.attempts[attempt_id], None
        chosen = method_id or account.default_method_id
        if chosen is None:
            raise MethodNotFound("the account has no default payment method")
        attempt = account.start_attempt(
            attempt_id, invoice_id, chosen, purpose, meta_of(deps, step)
        )
        return attempt, request_for(account, attempt, purpose)

    started, _, account = acted(deps, account.id, step, start, loaded=account)
    assert started is not None  # follow-up steps are never replays
    attempt, request = started
    if request is None:
        return _again(deps, account, attempt, ctx)
    charge = deps.gateway.charge(request)
    result, account = record_outcome(deps, account, attempt_id, charge, _answer(step, ctx))
    outcome = outcome_of(account, attempt_id, result, charge.client_secret)
    if outcome.status is AttemptStatus.REQUIRES_ACTION and purpose is AttemptPurpose.COLLECTION:
        # Telling the customer is not built: the read models show the waiting attempt.
        log.info("payment.requires_action", account_id=str(account.id), attempt_id=attempt_id)
    return outcome, account


def record_outcome(
    deps: Deps, account: Account, attempt_id: str, charge: ChargeResult, ctx: CommandContext
) -> tuple[CommandResult, Account]:
    """Records `charge` on the account as the step before left it (a failure for an attempt
    waiting for the customer only once the processor has cancelled the payment:
    `cancelled_first`, asked again on the account a conflict reloads). `ctx` names the
    command the outcome answers, if any; its id is never checked for a replay here (the
    outcome of a command the account already remembers moves the command's version on)."""

    def record(current: Account) -> None:
        outcome = cancelled_first(deps, current, attempt_id, charge)
        apply_charge(deps, current, attempt_id, outcome, meta_of(deps, ctx))

    _, result, saved = acted(deps, account.id, follow_up(ctx), record, loaded=account)
    return result, saved


def apply_charge(
    deps: Deps,
    account: Account,
    attempt_id: str,
    charge: ChargeResult,
    meta: EventMeta,
    missing_code: str = "unknown",
) -> bool:
    """Records the processor's answer on an attempt still in flight: a success, a wait for
    the customer (once), or a failure (`missing_code` when the processor gave no code).
    False, and nothing recorded, when the attempt is unknown, settled or still waiting (a
    success for a failed attempt is logged at error level). The caller has cancelled a
    waiting attempt before giving it a failure (`commands.outcomes.cancelled_first`)."""
    current = account.attempts.get(attempt_id)
    if current is None or not current.in_flight:
        note_refused_success(account, attempt_id, charge)
        return False
    if charge.succeeded:
        account.record_success(attempt_id, charge.processor_payment_id or attempt_id, meta)
    elif charge.requires_action and charge.processor_payment_id:
        if current.awaiting_customer:
            return False
        account.record_action_required(attempt_id, charge.processor_payment_id, deps.actions, meta)
    else:
        account.record_failure(attempt_id, charge.decline_code or missing_code, meta)
    return True


def outcome_of(
    account: Account, attempt_id: str, result: CommandResult, client_secret: str | None = None
) -> PaymentOutcome:
    attempt = account.attempts[attempt_id]
    secret = client_secret if attempt.awaiting_customer else None
    return PaymentOutcome(
        attempt_id, attempt.invoice_id, attempt.status, attempt.decline_code, result, secret
    )


def _again(
    deps: Deps, account: Account, attempt: PaymentAttempt, ctx: CommandContext
) -> tuple[PaymentOutcome, Account]:
    """The same request again. Settled: the first request's answer (the version its outcome
    brought the account to, replayed). Waiting for the customer: `_still_waiting`. Still
    pending (the first request is charging, or crashed while charging and the janitor will
    settle it): refused with a time to retry after, never charged again."""
    remembered = account.version_after_command(ctx.command_id) if ctx.command_id else None
    replay = replayed(deps, account.id, remembered or account.version)
    if attempt.awaiting_customer:
        return _still_waiting(deps, account, attempt, replay, _answer(follow_up(ctx), ctx))
    if attempt.in_flight:
        raise CommandInFlight(
            "the first request with this Idempotency-Key is still charging; retry after "
            f"{CommandInFlight.retry_after_s} s for its answer"
        )
    return outcome_of(account, attempt.attempt_id, replay), account


def _answer(step: CommandContext, ctx: CommandContext) -> CommandContext:
    """The context of a payment's outcome: a step of the command that also answers it."""
    return step.model_copy(update={"command_id": ctx.command_id})


def _still_waiting(
    deps: Deps,
    account: Account,
    attempt: PaymentAttempt,
    result: CommandResult,
    ctx: CommandContext,
) -> tuple[PaymentOutcome, Account]:
    """The same request again while its attempt waits for the customer: the processor is
    asked for the client secret again (it is never stored), and an outcome it has by now
    is recorded. Nothing is charged."""
    found = deps.gateway.find_charge(attempt.attempt_id, attempt.processor)
    if found is not None and not found.requires_action:
        result, account = record_outcome(deps, account, attempt.attempt_id, found, ctx)
    secret = found.client_secret if found is not None else None
    return outcome_of(account, attempt.attempt_id, result, secret), account


def request_for(
    account: Account, attempt: PaymentAttempt, purpose: AttemptPurpose
) -> ChargeRequest:
    method = account.methods[attempt.method_id]
    return ChargeRequest(
        attempt_id=attempt.attempt_id,
        processor=attempt.processor,
        method_ref=method.processor_ref,
        customer_ref=account.provider_customers.get(attempt.processor.value),
        amount=attempt.amount,
        on_session=purpose is AttemptPurpose.ON_SESSION,
        account_id=account.id,
    )
