"""3-D Secure through the handlers (in-memory store, fake gateway): collect records the wait
and hands back the client secret, webhooks or the janitor record the outcome, the janitor
cancels an expired wait before recording it, and the billing run leaves a wait alone."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from structlog.testing import capture_logs

from commands import billing, dunning
from commands.base import Deps, load_account
from commands.errors import CommandInFlight
from commands.janitor import Resolution, record_if_in_flight, resolve_in_flight
from commands.models import ChangePlan, PayInvoice, RunBilling, Subscribe
from commands.ports import ChargeRequest, ChargeResult, ProcessorRefused, ProcessorUnavailable
from ledger.invoices import InvoiceStatus
from ledger.payments import (
    AUTHENTICATION_NOT_COMPLETED,
    AttemptInFlight,
    AttemptPurpose,
    AttemptStatus,
    FailureKind,
)
from ledger.subscriptions import SubscriptionStatus
from tests.fakes.billing import CARD, subscribe, usd_account
from tests.fakes.builders import customer_ctx, in_memory_deps, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway

STALE = timedelta(minutes=15)


def waiting_purchase(deps: Deps, gateway: FakeGateway) -> tuple[UUID, billing.BillingResult]:
    account_id = usd_account(deps)
    gateway.require_action_next(CARD)
    return account_id, subscribe(deps, account_id)


def test_an_on_session_purchase_waits_for_the_customer_with_the_client_secret(
    deps: Deps, gateway: FakeGateway
) -> None:
    account_id, result = waiting_purchase(deps, gateway)
    payment = result.payment
    assert payment is not None
    assert payment.status is AttemptStatus.REQUIRES_ACTION
    assert payment.client_secret == f"pay_{payment.attempt_id[:8]}_secret"
    assert payment.decline_code is None
    account = load_account(deps.app, account_id)
    assert account.invoices[str(result.invoice_id)].status is InvoiceStatus.OPEN
    assert account.subscriptions[str(result.subscription_id)].status is SubscriptionStatus.ACTIVE
    attempt = account.attempts[payment.attempt_id]
    assert attempt.processor_payment_id == f"pay_{payment.attempt_id[:8]}"
    assert attempt.action_expires_at == deps.clock.now() + timedelta(hours=23)
    assert attempt.failure is None


def test_paying_again_while_it_waits_is_refused_and_charges_nothing(
    deps: Deps, gateway: FakeGateway
) -> None:
    account_id, result = waiting_purchase(deps, gateway)
    cmd = PayInvoice(account_id=account_id, invoice_id=str(result.invoice_id))
    with pytest.raises(AttemptInFlight):
        billing.pay_invoice(deps, cmd, customer_ctx(uuid4()))
    assert len(gateway.charges) == 1


def owed_invoice(deps: Deps, gateway: FakeGateway) -> tuple[UUID, str]:
    """An off-session purchase whose charge was declined: its invoice is open, in dunning."""
    account_id = usd_account(deps)
    gateway.decline_next(CARD, "insufficient_funds")
    result = subscribe(deps, account_id, on_session=False)
    return account_id, str(result.invoice_id)


def test_the_same_request_again_gets_the_client_secret_again_without_a_charge(
    deps: Deps, gateway: FakeGateway
) -> None:
    account_id, invoice_id = owed_invoice(deps, gateway)
    gateway.require_action_next(CARD)
    cmd, key = PayInvoice(account_id=account_id, invoice_id=invoice_id), uuid4()
    first = billing.pay_invoice(deps, cmd, customer_ctx(key))
    again = billing.pay_invoice(deps, cmd, customer_ctx(key))
    assert first.status is again.status is AttemptStatus.REQUIRES_ACTION
    assert again.attempt_id == first.attempt_id
    assert again.client_secret == first.client_secret == f"pay_{first.attempt_id[:8]}_secret"
    assert len(gateway.charges) == 2  # the declined one and the waiting one, never again


def test_a_repeat_after_the_customer_authenticated_records_the_success(
    deps: Deps, gateway: FakeGateway
) -> None:
    account_id, invoice_id = owed_invoice(deps, gateway)
    gateway.require_action_next(CARD)
    cmd, key = PayInvoice(account_id=account_id, invoice_id=invoice_id), uuid4()
    first = billing.pay_invoice(deps, cmd, customer_ctx(key))
    gateway.authenticate(first.attempt_id)  # its webhook has not arrived yet
    again = billing.pay_invoice(deps, cmd, customer_ctx(key))
    assert (again.status, again.client_secret) == (AttemptStatus.SUCCEEDED, None)
    assert load_account(deps.app, account_id).invoices[invoice_id].status is InvoiceStatus.PAID
    assert len(gateway.charges) == 2


def test_a_renewal_paid_on_session_that_expires_stays_owed(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    """Only an invoice for an on-session change is rolled back; an owed one stays open."""
    account_id, invoice_id = owed_invoice(deps, gateway)
    gateway.require_action_next(CARD)
    cmd = PayInvoice(account_id=account_id, invoice_id=invoice_id)
    billing.pay_invoice(deps, cmd, customer_ctx(uuid4()))
    clock.advance(hours=23)
    [resolved] = resolve_in_flight(deps, account_id, STALE, system_ctx())
    assert resolved.resolution is Resolution.EXPIRED
    assert load_account(deps.app, account_id).invoices[invoice_id].status is InvoiceStatus.OPEN


def test_the_webhook_success_settles_the_wait_and_a_redelivery_changes_nothing(
    deps: Deps, gateway: FakeGateway
) -> None:
    account_id, result = waiting_purchase(deps, gateway)
    assert result.payment is not None
    attempt_id = result.payment.attempt_id
    success = gateway.authenticate(attempt_id)
    event_ctx = system_ctx().model_copy(update={"command_id": uuid4()})
    assert record_if_in_flight(deps, account_id, attempt_id, success, event_ctx)
    version = load_account(deps.app, account_id).version
    assert not record_if_in_flight(deps, account_id, attempt_id, success, event_ctx)
    account = load_account(deps.app, account_id)
    assert account.version == version
    assert account.invoices[str(result.invoice_id)].status is InvoiceStatus.PAID
    assert account.attempts[attempt_id].status is AttemptStatus.SUCCEEDED


def test_a_second_requires_action_answer_records_nothing(deps: Deps, gateway: FakeGateway) -> None:
    account_id, result = waiting_purchase(deps, gateway)
    assert result.payment is not None
    version = load_account(deps.app, account_id).version
    again = ChargeResult(
        succeeded=False,
        processor_payment_id="pi_x",
        decline_code="authentication_required",
        requires_action=True,
        client_secret="pi_x_secret",
    )
    assert not record_if_in_flight(deps, account_id, result.payment.attempt_id, again, system_ctx())
    assert load_account(deps.app, account_id).version == version


def test_a_failed_authentication_is_cancelled_then_rolls_the_purchase_back(
    deps: Deps, gateway: FakeGateway
) -> None:
    account_id, result = waiting_purchase(deps, gateway)
    assert result.payment is not None
    attempt_id = result.payment.attempt_id
    failure = gateway.authenticate(attempt_id, success=False)
    assert record_if_in_flight(deps, account_id, attempt_id, failure, system_ctx())
    assert gateway.cancels == [attempt_id]  # the customer can no longer pay it
    with pytest.raises(ProcessorRefused):
        gateway.authenticate(attempt_id)
    account = load_account(deps.app, account_id)
    assert account.attempts[attempt_id].decline_code == "payment_intent_authentication_failure"
    assert account.invoices[str(result.invoice_id)].status is InvoiceStatus.VOID
    assert account.subscriptions[str(result.subscription_id)].status is SubscriptionStatus.CANCELED


def test_the_janitor_leaves_a_wait_alone_until_it_expires_then_cancels_and_rolls_back(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id, result = waiting_purchase(deps, gateway)
    assert result.payment is not None
    attempt_id = result.payment.attempt_id
    clock.advance(hours=22)
    assert resolve_in_flight(deps, account_id, STALE, system_ctx()) == []
    assert gateway.cancels == []
    clock.advance(hours=1)
    [resolved] = resolve_in_flight(deps, account_id, STALE, system_ctx())
    assert (resolved.attempt_id, resolved.resolution) == (attempt_id, Resolution.EXPIRED)
    assert gateway.cancels == [attempt_id]
    account = load_account(deps.app, account_id)
    attempt = account.attempts[attempt_id]
    assert (attempt.status, attempt.decline_code, attempt.failure) == (
        AttemptStatus.FAILED,
        AUTHENTICATION_NOT_COMPLETED,
        FailureKind.SOFT,
    )
    assert account.invoices[str(result.invoice_id)].status is InvoiceStatus.VOID
    assert account.subscriptions[str(result.subscription_id)].status is SubscriptionStatus.CANCELED
    assert resolve_in_flight(deps, account_id, STALE, system_ctx()) == []
    # A success arriving after the cancel (it cannot at Stripe) is refused, not recorded,
    # and logged as money the processor holds and the ledger does not.
    late = ChargeResult(succeeded=True, processor_payment_id=attempt.processor_payment_id)
    with capture_logs() as logs:
        assert not record_if_in_flight(deps, account_id, attempt_id, late, system_ctx())
    assert load_account(deps.app, account_id).attempts[attempt_id].status is AttemptStatus.FAILED
    [logged] = [e for e in logs if e["event"] == "payment.succeeded_after_failure"]
    assert logged["log_level"] == "error"
    assert (logged["attempt_id"], logged["processor_payment_id"]) == (
        attempt_id,
        attempt.processor_payment_id,
    )
    assert logged["account_id"] == str(account_id)


def test_an_expired_wait_that_was_authenticated_meanwhile_is_recorded_as_paid(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id, result = waiting_purchase(deps, gateway)
    assert result.payment is not None
    gateway.authenticate(result.payment.attempt_id)  # the webhook was lost
    clock.advance(hours=24)
    [resolved] = resolve_in_flight(deps, account_id, STALE, system_ctx())
    assert resolved.resolution is Resolution.SUCCEEDED
    account = load_account(deps.app, account_id)
    assert account.invoices[str(result.invoice_id)].status is InvoiceStatus.PAID


def test_a_cancel_that_cannot_be_made_leaves_the_wait_for_the_next_run(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id, result = waiting_purchase(deps, gateway)
    assert result.payment is not None
    clock.advance(days=2)
    gateway.cancel_unavailable = True
    [resolved] = resolve_in_flight(deps, account_id, STALE, system_ctx())
    assert resolved.resolution is Resolution.UNREACHABLE
    attempt = load_account(deps.app, account_id).attempts[result.payment.attempt_id]
    assert attempt.awaiting_customer
    gateway.cancel_unavailable = False
    [later] = resolve_in_flight(deps, account_id, STALE, system_ctx())
    assert later.resolution is Resolution.EXPIRED


def test_off_session_a_wait_pauses_dunning_then_expires_into_its_schedule(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id = usd_account(deps)
    gateway.require_action_next(CARD)
    result = subscribe(deps, account_id, on_session=False)
    assert result.payment is not None
    assert result.payment.status is AttemptStatus.REQUIRES_ACTION
    attempt_id = result.payment.attempt_id
    attempt = load_account(deps.app, account_id).attempts[attempt_id]
    assert attempt.purpose is AttemptPurpose.COLLECTION
    assert attempt.action_expires_at == clock.now() + timedelta(days=3)
    run = RunBilling(account_ids=[account_id])
    clock.advance(days=2)
    report = dunning.run_billing(deps, run, system_ctx())
    assert (report.attempts, report.exhausted, len(gateway.charges)) == ([], [], 1)
    clock.advance(days=1)
    [resolved] = resolve_in_flight(deps, account_id, STALE, system_ctx())
    assert resolved.resolution is Resolution.EXPIRED
    account = load_account(deps.app, account_id)
    assert account.invoices[str(result.invoice_id)].status is InvoiceStatus.OPEN
    assert account.subscriptions[str(result.subscription_id)].status is SubscriptionStatus.ACTIVE
    clock.advance(days=1)  # the first retry day after that soft failure
    retried = dunning.run_billing(deps, run, system_ctx())
    [retry] = retried.attempts
    assert retry.status is AttemptStatus.SUCCEEDED
    assert load_account(deps.app, account_id).invoices[str(result.invoice_id)].paid_at


def test_an_unrecorded_charge_the_processor_holds_for_action_becomes_a_wait(
    deps: Deps, clock: FixedClock
) -> None:
    """The janitor finds a crash-lost charge that asked for authentication: it waits."""

    class LosesTheAnswer(FakeGateway):
        def charge(self, request: ChargeRequest) -> ChargeResult:
            super().charge(request)
            raise ProcessorUnavailable("the answer was lost")

    gateway = LosesTheAnswer()
    gateway.require_action_next(CARD)
    lossy = in_memory_deps(clock, gateway)
    account_id = usd_account(lossy)
    with pytest.raises(ProcessorUnavailable):
        subscribe(lossy, account_id)
    clock.advance(minutes=16)
    [resolved] = resolve_in_flight(lossy, account_id, STALE, system_ctx())
    assert resolved.resolution is Resolution.WAITING
    attempt = load_account(lossy.app, account_id).attempts[resolved.attempt_id]
    assert attempt.awaiting_customer
    assert attempt.action_expires_at == clock.now() + timedelta(hours=23)


def test_a_repeated_purchase_reports_its_waiting_payment_with_the_client_secret(
    deps: Deps, gateway: FakeGateway
) -> None:
    account_id = usd_account(deps)
    gateway.require_action_next(CARD)
    cmd, key = Subscribe(account_id=account_id, plan_id="pro-monthly-usd"), uuid4()
    first = billing.subscribe(deps, cmd, customer_ctx(key))
    again = billing.subscribe(deps, cmd, customer_ctx(key))
    assert again.result.replayed
    assert (again.subscription_id, again.invoice_id) == (first.subscription_id, first.invoice_id)
    assert first.payment is not None
    assert again.payment is not None
    assert again.payment.status is AttemptStatus.REQUIRES_ACTION
    assert again.payment.client_secret == first.payment.client_secret is not None
    gateway.authenticate(first.payment.attempt_id)
    paid = billing.subscribe(deps, cmd, customer_ctx(key))
    assert paid.payment is not None
    assert (paid.payment.status, paid.payment.client_secret) == (AttemptStatus.SUCCEEDED, None)
    assert len(gateway.charges) == 1


def test_a_repeated_plan_change_whose_payment_is_still_unknown_is_asked_to_retry_later(
    deps: Deps, gateway: FakeGateway
) -> None:
    account_id = usd_account(deps)
    bought = subscribe(deps, account_id)
    gateway.go_down_next(CARD)
    change = ChangePlan(
        account_id=account_id,
        subscription_id=str(bought.subscription_id),
        plan_id="business-monthly-usd",
    )
    key = uuid4()
    with pytest.raises(ProcessorUnavailable):
        billing.change_plan(deps, change, customer_ctx(key))
    with pytest.raises(CommandInFlight) as refused:
        billing.change_plan(deps, change, customer_ctx(key))
    assert refused.value.retry_after_s > 0
    assert len(gateway.charges) == 2  # the purchase and the lost one: never charged again
