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

from commands.base import CommandResult, Deps, acting, follow_up, load_account, meta_of
from commands.models import CommandContext
from commands.outcomes import cancelled_first, note_refused_success
from commands.ports import ChargeRequest, ChargeResult
from ledger.account import Account
from ledger.meta import EventMeta
from ledger.methods import MethodNotFound
from ledger.payments import AttemptInFlight, AttemptPurpose, AttemptStatus, PaymentAttempt

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
    step = follow_up(ctx)

    def start(account: Account) -> tuple[PaymentAttempt, ChargeRequest]:
        existing = account.attempts.get(attempt_id)
        if existing is not None and existing.status is AttemptStatus.PENDING:
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
    if attempt.awaiting_customer:
        return _still_waiting(deps, account_id, attempt, result, step)
    if not attempt.in_flight:
        return outcome_of(deps, account_id, attempt_id, result)
    charge = deps.gateway.charge(request)
    result = record_outcome(deps, account_id, attempt_id, charge, step)
    outcome = outcome_of(deps, account_id, attempt_id, result, charge.client_secret)
    if outcome.status is AttemptStatus.REQUIRES_ACTION and purpose is AttemptPurpose.COLLECTION:
        # Telling the customer is not built: the read models show the waiting attempt.
        log.info("payment.requires_action", account_id=str(account_id), attempt_id=attempt_id)
    return outcome


def record_outcome(
    deps: Deps, account_id: UUID, attempt_id: str, charge: ChargeResult, ctx: CommandContext
) -> CommandResult:
    """Records `charge` (a failure for an attempt waiting for the customer only once the
    processor has cancelled the payment: `cancelled_first`)."""
    charge = cancelled_first(deps, account_id, attempt_id, charge)

    def record(account: Account) -> None:
        apply_charge(deps, account, attempt_id, charge, meta_of(deps, ctx))

    return acting(deps, account_id, ctx, record)[1]


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
    deps: Deps,
    account_id: UUID,
    attempt_id: str,
    result: CommandResult,
    client_secret: str | None = None,
) -> PaymentOutcome:
    attempt = load_account(deps.app, account_id).attempts[attempt_id]
    secret = client_secret if attempt.awaiting_customer else None
    return PaymentOutcome(
        attempt_id, attempt.invoice_id, attempt.status, attempt.decline_code, result, secret
    )


def _still_waiting(
    deps: Deps,
    account_id: UUID,
    attempt: PaymentAttempt,
    result: CommandResult,
    ctx: CommandContext,
) -> PaymentOutcome:
    """The same request again while its attempt waits for the customer: the processor is
    asked for the client secret again (it is never stored), and an outcome it has by now
    is recorded. Nothing is charged."""
    found = deps.gateway.find_charge(attempt.attempt_id, attempt.processor)
    if found is not None and not found.requires_action:
        result = record_outcome(deps, account_id, attempt.attempt_id, found, ctx)
    secret = found.client_secret if found is not None else None
    return outcome_of(deps, account_id, attempt.attempt_id, result, secret)


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
