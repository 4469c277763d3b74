"""The customer's side of a payment waiting for 3-D Secure (commands/authentication.py),
in memory with the fake gateway: the waiting payment and its client secret (asked of the
processor again), the check after the browser is done (the processor's outcome recorded
once, whoever asks first or again), and what is not the customer's to check."""

from __future__ import annotations

from uuid import UUID

import pytest

from commands import dunning
from commands.authentication import (
    PaymentNotWaiting,
    check_authentication,
    payment_state,
    waiting_payment,
)
from commands.base import Deps, load_account
from commands.janitor import record_if_in_flight
from commands.models import CheckAuthentication, RunBilling
from ledger.invoices import InvoiceStatus
from ledger.payments import AttemptStatus
from tests.fakes.billing import CARD, subscribe, usd_account
from tests.fakes.builders import customer_ctx, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway


def waiting_renewal(deps: Deps, gateway: FakeGateway, clock: FixedClock) -> tuple[UUID, str]:
    """An account whose renewal waits for the customer: (account id, invoice id)."""
    account_id = usd_account(deps)
    subscribe(deps, account_id, on_session=False)
    clock.advance(days=31)
    gateway.require_action_next(CARD)
    report = dunning.run_billing(deps, RunBilling(account_ids=[account_id]), system_ctx())
    (payment,) = report.attempts
    assert payment.status is AttemptStatus.REQUIRES_ACTION
    return account_id, payment.invoice_id


def check(deps: Deps, account_id: UUID, invoice_id: str, attempt_id: str) -> AttemptStatus:
    cmd = CheckAuthentication(account_id=account_id, invoice_id=invoice_id, attempt_id=attempt_id)
    return check_authentication(deps, cmd, customer_ctx()).status


def test_the_waiting_payment_gets_its_client_secret_from_the_processor_again(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id, invoice_id = waiting_renewal(deps, gateway, clock)
    waiting = waiting_payment(deps, account_id, invoice_id)
    assert waiting.client_secret == f"pay_{waiting.attempt_id[:8]}_secret"
    assert (waiting.amount.amount, waiting.amount.currency) == (2000, "USD")
    assert waiting.invoice_number is not None


def test_an_authenticated_payment_is_recorded_once_however_often_it_is_checked(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id, invoice_id = waiting_renewal(deps, gateway, clock)
    attempt_id = waiting_payment(deps, account_id, invoice_id).attempt_id
    gateway.authenticate(attempt_id)
    assert check(deps, account_id, invoice_id, attempt_id) is AttemptStatus.SUCCEEDED
    version = load_account(deps.app, account_id).version
    assert check(deps, account_id, invoice_id, attempt_id) is AttemptStatus.SUCCEEDED
    account = load_account(deps.app, account_id)
    assert account.version == version  # nothing recorded the second time
    assert account.invoices[invoice_id].status is InvoiceStatus.PAID
    state = payment_state(deps, account_id, invoice_id, attempt_id)
    assert (state.invoice_status, state.paid_at) == (InvoiceStatus.PAID, clock.now())


def test_a_failed_authentication_is_cancelled_at_the_processor_then_recorded(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id, invoice_id = waiting_renewal(deps, gateway, clock)
    attempt_id = waiting_payment(deps, account_id, invoice_id).attempt_id
    gateway.authenticate(attempt_id, success=False)
    assert check(deps, account_id, invoice_id, attempt_id) is AttemptStatus.FAILED
    assert gateway.cancels == [attempt_id]  # the client secret can no longer pay it
    account = load_account(deps.app, account_id)
    assert account.invoices[invoice_id].status is InvoiceStatus.OPEN
    with pytest.raises(PaymentNotWaiting):
        waiting_payment(deps, account_id, invoice_id)  # nothing waits any more


def test_a_check_before_the_bank_answers_records_nothing(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id, invoice_id = waiting_renewal(deps, gateway, clock)
    attempt_id = waiting_payment(deps, account_id, invoice_id).attempt_id
    version = load_account(deps.app, account_id).version
    assert check(deps, account_id, invoice_id, attempt_id) is AttemptStatus.REQUIRES_ACTION
    assert load_account(deps.app, account_id).version == version


def test_the_webhook_recording_first_leaves_the_check_to_read_it(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id, invoice_id = waiting_renewal(deps, gateway, clock)
    attempt_id = waiting_payment(deps, account_id, invoice_id).attempt_id
    result = gateway.authenticate(attempt_id)
    assert record_if_in_flight(deps, account_id, attempt_id, result, system_ctx())
    version = load_account(deps.app, account_id).version
    assert check(deps, account_id, invoice_id, attempt_id) is AttemptStatus.SUCCEEDED
    assert load_account(deps.app, account_id).version == version


def test_what_is_not_a_waiting_payment_of_this_invoice_is_not_found(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id, invoice_id = waiting_renewal(deps, gateway, clock)
    attempt_id = waiting_payment(deps, account_id, invoice_id).attempt_id
    paid_first = next(a for a in load_account(deps.app, account_id).attempts.values()
                      if a.status is AttemptStatus.SUCCEEDED)  # fmt: skip
    other_account = usd_account(deps)
    with pytest.raises(PaymentNotWaiting):
        waiting_payment(deps, account_id, paid_first.invoice_id)  # paid, nothing waits
    with pytest.raises(PaymentNotWaiting):
        check(deps, account_id, paid_first.invoice_id, paid_first.attempt_id)  # never waited
    with pytest.raises(PaymentNotWaiting):
        check(deps, account_id, paid_first.invoice_id, attempt_id)  # another invoice's
    with pytest.raises(PaymentNotWaiting):
        waiting_payment(deps, other_account, invoice_id)  # another account's invoice
    with pytest.raises(PaymentNotWaiting):
        check(deps, other_account, invoice_id, attempt_id)
