"""A failure for an attempt waiting for the customer (3-D Secure) is recorded only once the
processor has cancelled the payment (in-memory store, fake gateway, which, like Stripe,
lets the customer authenticate again after a failed authentication until the payment is
cancelled): the webhook, the same request again and the janitor each cancel first, a
success found by the cancel is recorded instead, and nothing is recorded while the
processor cannot be asked or still shows the payment waiting."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from structlog.testing import capture_logs

from commands import billing
from commands.base import Deps, load_account
from commands.janitor import Resolution, record_if_in_flight, resolve_in_flight
from commands.models import CommandContext, PayInvoice
from commands.ports import ChargeResult, ProcessorRefused, ProcessorUnavailable
from commands.reconcile_compare import FindingKind, ProcessorView, compare
from ledger.invoices import InvoiceStatus
from ledger.payments import AttemptStatus, Processor
from ledger.subscriptions import SubscriptionStatus
from tests.fakes.billing import CARD, subscribe, usd_account
from tests.fakes.builders import customer_ctx, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway
from tests.unit.test_payment_action_handlers import STALE, waiting_purchase

AUTH_FAILED = "payment_intent_authentication_failure"


def event_ctx() -> CommandContext:
    """A webhook delivery: its command id is the event's, the same on a redelivery."""
    return system_ctx().model_copy(update={"command_id": uuid4()})


def test_a_failed_authentication_that_cannot_be_cancelled_records_nothing_until_it_can(
    deps: Deps, gateway: FakeGateway
) -> None:
    account_id, result = waiting_purchase(deps, gateway)
    assert result.payment is not None
    attempt_id = result.payment.attempt_id
    failure = gateway.authenticate(attempt_id, success=False)
    version = load_account(deps.app, account_id).version
    gateway.cancel_unavailable = True
    delivery = event_ctx()
    with pytest.raises(ProcessorUnavailable):
        record_if_in_flight(deps, account_id, attempt_id, failure, delivery)
    account = load_account(deps.app, account_id)
    assert account.version == version
    assert account.attempts[attempt_id].awaiting_customer
    assert account.invoices[str(result.invoice_id)].status is InvoiceStatus.OPEN

    gateway.cancel_unavailable = False  # the processor delivers the event again
    assert record_if_in_flight(deps, account_id, attempt_id, failure, delivery)
    assert gateway.cancels == [attempt_id]
    account = load_account(deps.app, account_id)
    assert (account.attempts[attempt_id].status, account.attempts[attempt_id].decline_code) == (
        AttemptStatus.FAILED,
        AUTH_FAILED,
    )
    assert account.subscriptions[str(result.subscription_id)].status is SubscriptionStatus.CANCELED


def test_a_failure_for_a_payment_the_processor_still_shows_waiting_records_nothing(
    deps: Deps, gateway: FakeGateway
) -> None:
    """The cancel was refused for another reason and the payment still waits for the
    customer: recording the failure now would let the customer pay a failed attempt."""
    account_id, result = waiting_purchase(deps, gateway)
    assert result.payment is not None
    attempt_id = result.payment.attempt_id
    attempt = load_account(deps.app, account_id).attempts[attempt_id]
    failure = ChargeResult(
        succeeded=False, processor_payment_id=attempt.processor_payment_id, decline_code=AUTH_FAILED
    )
    version = load_account(deps.app, account_id).version
    gateway.cancel_refused = True
    with pytest.raises(ProcessorUnavailable):
        record_if_in_flight(deps, account_id, attempt_id, failure, event_ctx())
    assert gateway.cancels == [attempt_id]
    account = load_account(deps.app, account_id)
    assert account.version == version
    assert account.attempts[attempt_id].awaiting_customer


def test_a_failed_authentication_paid_on_a_retry_before_the_cancel_is_recorded_as_paid(
    deps: Deps, gateway: FakeGateway
) -> None:
    account_id, result = waiting_purchase(deps, gateway)
    assert result.payment is not None
    attempt_id = result.payment.attempt_id
    failure = gateway.authenticate(attempt_id, success=False)
    gateway.authenticate(attempt_id)  # the customer tries again on the same payment
    assert record_if_in_flight(deps, account_id, attempt_id, failure, event_ctx())
    account = load_account(deps.app, account_id)
    paid = account.attempts[attempt_id]
    assert (paid.status, paid.processor_payment_id) == (
        AttemptStatus.SUCCEEDED,
        f"pay_{attempt_id[:8]}",
    )
    assert account.invoices[str(result.invoice_id)].status is InvoiceStatus.PAID
    assert account.subscriptions[str(result.subscription_id)].status is SubscriptionStatus.ACTIVE


def owed_and_waiting(deps: Deps, gateway: FakeGateway) -> tuple[UUID, str, PayInvoice, UUID]:
    """An open invoice in dunning, paid by the customer with a card that asks to
    authenticate: the command and its idempotency key, to send again."""
    account_id = usd_account(deps)
    gateway.decline_next(CARD, "insufficient_funds")
    invoice_id = str(subscribe(deps, account_id, on_session=False).invoice_id)
    gateway.require_action_next(CARD)
    cmd, key = PayInvoice(account_id=account_id, invoice_id=invoice_id), uuid4()
    return account_id, invoice_id, cmd, key


def test_the_same_request_again_after_a_failed_authentication_cancels_before_recording(
    deps: Deps, gateway: FakeGateway
) -> None:
    account_id, invoice_id, cmd, key = owed_and_waiting(deps, gateway)
    first = billing.pay_invoice(deps, cmd, customer_ctx(key))
    gateway.authenticate(first.attempt_id, success=False)  # its webhook has not arrived yet
    gateway.cancel_unavailable = True
    with pytest.raises(ProcessorUnavailable):
        billing.pay_invoice(deps, cmd, customer_ctx(key))
    assert load_account(deps.app, account_id).attempts[first.attempt_id].awaiting_customer

    gateway.cancel_unavailable = False
    again = billing.pay_invoice(deps, cmd, customer_ctx(key))
    assert (again.status, again.decline_code, again.client_secret) == (
        AttemptStatus.FAILED,
        AUTH_FAILED,
        None,
    )
    assert gateway.cancels == [first.attempt_id]
    with pytest.raises(ProcessorRefused):
        gateway.authenticate(first.attempt_id)
    assert load_account(deps.app, account_id).invoices[invoice_id].status is InvoiceStatus.OPEN


def test_the_janitor_records_no_expiry_while_the_processor_still_shows_the_wait(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id, result = waiting_purchase(deps, gateway)
    assert result.payment is not None
    attempt_id = result.payment.attempt_id
    clock.advance(hours=23)
    version = load_account(deps.app, account_id).version
    gateway.cancel_refused = True
    [refused] = resolve_in_flight(deps, account_id, STALE, system_ctx())
    assert (refused.attempt_id, refused.resolution) == (attempt_id, Resolution.UNREACHABLE)
    assert gateway.cancels == [attempt_id]
    account = load_account(deps.app, account_id)
    assert account.version == version
    assert account.attempts[attempt_id].awaiting_customer
    assert account.invoices[str(result.invoice_id)].status is InvoiceStatus.OPEN

    gateway.cancel_refused = False  # the next run
    [expired] = resolve_in_flight(deps, account_id, STALE, system_ctx())
    assert expired.resolution is Resolution.EXPIRED
    assert load_account(deps.app, account_id).attempts[attempt_id].status is AttemptStatus.FAILED


def test_a_success_for_a_failed_attempt_is_logged_and_shown_by_reconciliation(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id, result = waiting_purchase(deps, gateway)
    assert result.payment is not None
    attempt_id = result.payment.attempt_id
    failure = gateway.authenticate(attempt_id, success=False)
    assert record_if_in_flight(deps, account_id, attempt_id, failure, event_ctx())
    payment_id = load_account(deps.app, account_id).attempts[attempt_id].processor_payment_id
    late = ChargeResult(succeeded=True, processor_payment_id=payment_id)
    with capture_logs() as logs:
        assert not record_if_in_flight(deps, account_id, attempt_id, late, event_ctx())
    [logged] = [e for e in logs if e["event"] == "payment.succeeded_after_failure"]
    assert logged["log_level"] == "error"
    assert (logged["account_id"], logged["attempt_id"], logged["processor_payment_id"]) == (
        str(account_id),
        attempt_id,
        payment_id,
    )
    assert logged["decline_code"] == AUTH_FAILED
    account = load_account(deps.app, account_id)
    assert account.attempts[attempt_id].status is AttemptStatus.FAILED
    view = ProcessorView(frozenset({Processor.STRIPE}), charges={attempt_id: late})
    found = [f for f in compare(account, view, clock.now()) if f.subject == attempt_id]
    assert [f.kind for f in found] == [FindingKind.PAYMENT_OUTCOME_MISMATCH]
