"""Collecting an invoice: start an attempt (saved first, so a crash leaves a visible pending
attempt, never an unrecorded charge), charge with the attempt id as idempotency key, record
the outcome. An unknown outcome (timeout) leaves the attempt pending for the janitor."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from commands.base import CommandResult, Deps, acting, follow_up, load_account, meta_of
from commands.models import CommandContext
from commands.ports import ChargeRequest, ChargeResult
from ledger.account import Account
from ledger.methods import MethodNotFound
from ledger.payments import AttemptInFlight, AttemptPurpose, AttemptStatus, PaymentAttempt


@dataclass(frozen=True)
class PaymentOutcome:
    attempt_id: str
    invoice_id: str
    status: AttemptStatus
    decline_code: str | None
    result: CommandResult


def collect(
    deps: Deps,
    account_id: UUID,
    invoice_id: str,
    method_id: str | None,
    purpose: AttemptPurpose,
    attempt_id: str,
    ctx: CommandContext,
) -> PaymentOutcome:
    step = follow_up(ctx)

    def start(account: Account) -> tuple[PaymentAttempt, ChargeRequest]:
        existing = account.attempts.get(attempt_id)
        if existing is not None and existing.in_flight:
            # Charged before, outcome never recorded (crash, timeout): charging again could
            # charge twice. The janitor asks the processor and records what happened.
            raise AttemptInFlight("this payment's outcome is not known yet")
        chosen = method_id or account.default_method_id
        if chosen is None:
            raise MethodNotFound("the account has no default payment method")
        attempt = account.start_attempt(
            attempt_id, invoice_id, chosen, purpose, meta_of(deps, step)
        )
        return attempt, _request(account, attempt, purpose)

    started, result = acting(deps, account_id, step, start)
    assert started is not None  # follow-up steps are never replays
    attempt, request = started
    if attempt.in_flight:
        charge = deps.gateway.charge(request)
        result = record_outcome(deps, account_id, attempt_id, charge, step)
    return outcome_of(deps, account_id, attempt_id, result)


def record_outcome(
    deps: Deps, account_id: UUID, attempt_id: str, charge: ChargeResult, ctx: CommandContext
) -> CommandResult:
    def record(account: Account) -> None:
        meta = meta_of(deps, ctx)
        if charge.succeeded:
            account.record_success(attempt_id, charge.processor_payment_id or attempt_id, meta)
        else:
            account.record_failure(attempt_id, charge.decline_code or "unknown", meta)

    return acting(deps, account_id, ctx, record)[1]


def outcome_of(
    deps: Deps, account_id: UUID, attempt_id: str, result: CommandResult
) -> PaymentOutcome:
    attempt = load_account(deps.app, account_id).attempts[attempt_id]
    return PaymentOutcome(
        attempt_id, attempt.invoice_id, attempt.status, attempt.decline_code, result
    )


def _request(account: Account, attempt: PaymentAttempt, purpose: AttemptPurpose) -> ChargeRequest:
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
