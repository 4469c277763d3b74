"""Two rules for recording a processor's outcome on an attempt that waited for the customer
(3-D Secure).

* A failure is recorded only once the processor has cancelled the payment. Stripe leaves a
  failed authentication in `requires_payment_method`, and the customer's browser still
  holds the client secret: without the cancel the customer could try again on the same
  PaymentIntent and pay an attempt the ledger already records as failed. Every path that
  records a failure it did not get from a cancel (webhooks, the same request again, the
  janitor's lookups) goes through `cancelled_first`; the janitor's expiry cancels itself.
* A success for an attempt already recorded as failed is money at the processor the ledger
  does not hold: the domain refuses it, so it is logged at error level here (and
  reconciliation lists it as `payment_outcome_mismatch`, since a settled attempt with a
  processor payment id is checked there)."""

from __future__ import annotations

from uuid import UUID

import structlog

from commands.base import Deps
from commands.ports import ChargeResult, ProcessorUnavailable
from ledger.account import Account
from ledger.payments import AttemptStatus

log = structlog.get_logger("payments")


def cancelled_first(
    deps: Deps, account: Account, attempt_id: str, charge: ChargeResult
) -> ChargeResult:
    """The outcome to record for `charge` on `account` (as loaded for the recording). A
    failure for an attempt waiting for the customer is first cancelled at the processor
    (`cancel_charge`, safe to repeat): a success the cancel finds is returned instead, else
    the failure as given. Raises ProcessorUnavailable (record nothing, ask again later)
    when the processor cannot be asked or still shows the payment waiting for the
    customer."""
    if charge.succeeded or charge.requires_action:
        return charge
    attempt = account.attempts.get(attempt_id)
    if attempt is None or not attempt.awaiting_customer:
        return charge
    cancelled = deps.gateway.cancel_charge(
        attempt_id, attempt.processor, attempt.processor_payment_id or ""
    )
    if cancelled.requires_action:
        note_still_waiting(account.id, attempt_id)
        raise ProcessorUnavailable("the processor still shows the payment waiting for the customer")
    return cancelled if cancelled.succeeded else charge


def note_still_waiting(account_id: UUID, attempt_id: str) -> None:
    """The cancel was refused and the processor still shows the payment waiting for the
    customer: nothing may be recorded yet (a failure could still be paid)."""
    log.warning("payment.cancel_still_waiting", account_id=str(account_id), attempt_id=attempt_id)


def note_refused_success(account: Account, attempt_id: str, charge: ChargeResult) -> None:
    """Logs a success the ledger refuses because the attempt is already recorded as
    failed: the processor holds money the ledger does not."""
    current = account.attempts.get(attempt_id)
    if not charge.succeeded or current is None or current.status is not AttemptStatus.FAILED:
        return
    log.error(
        "payment.succeeded_after_failure",
        account_id=str(account.id),
        attempt_id=attempt_id,
        invoice_id=current.invoice_id,
        processor=current.processor.value,
        processor_payment_id=charge.processor_payment_id,
        recorded_payment_id=current.processor_payment_id,
        decline_code=current.decline_code,
    )
