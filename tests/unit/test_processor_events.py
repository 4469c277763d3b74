"""Facts a processor reports (commands/processor_events.py): recorded once whatever the
number of notifications, safe out of order, refused when they contradict the ledger."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from commands import refunds
from commands.base import Deps, load_account, new_id_for
from commands.models import (
    CommandContext,
    RecordDisputeClosed,
    RecordDisputeOpened,
    RecordPayPalRevoked,
    RecordProcessorRefund,
    RefundPayment,
)
from commands.ports import ProcessorUnavailable
from commands.processor_events import (
    Outcome,
    ProcessorPaymentMismatch,
    record_dispute_closed,
    record_dispute_opened,
    record_paypal_revoked,
    record_refund,
)
from ledger.meta import ActorKind, Surface
from ledger.methods import MethodNotFound, MethodState
from ledger.money import CurrencyMismatch
from ledger.payments import AttemptStatus, DisputeStatus, RefundTooLarge
from tests.fakes.billing import CARD, PAYPAL, add_paypal, subscribe, usd_account
from tests.fakes.builders import support_ctx
from tests.fakes.gateway import FakeGateway

PRICE = 2000


def webhook() -> CommandContext:
    """A new delivery each time (its own command id)."""
    return CommandContext(
        actor_id="stripe",
        actor_kind=ActorKind.SYSTEM,
        surface=Surface.WEBHOOK,
        command_id=uuid4(),
    )


def charged(deps: Deps, gateway: FakeGateway, *, pending: bool = False) -> tuple[UUID, str, str]:
    """(account, attempt id, processor payment id); `pending`: the processor's answer was
    lost, so the attempt is still in flight (and the id is the one the processor reports)."""
    account_id = usd_account(deps)
    if pending:
        gateway.go_down_next(CARD)
        with pytest.raises(ProcessorUnavailable):
            subscribe(deps, account_id, on_session=False)
    else:
        subscribe(deps, account_id, on_session=False)
    [attempt] = load_account(deps.app, account_id).attempts.values()
    assert attempt.in_flight is pending
    return account_id, attempt.attempt_id, attempt.processor_payment_id or "pi_reported"


def refund_cmd(
    account_id: UUID, attempt_id: str, payment_id: str, **kw: object
) -> RecordProcessorRefund:
    fields: dict[str, object] = {
        "account_id": account_id,
        "attempt_id": attempt_id,
        "processor_payment_id": payment_id,
        "refund_id": "re_1",
        "amount": 500,
        "currency": "USD",
    }
    return RecordProcessorRefund.model_validate({**fields, **kw})


def dispute_cmd(account_id: UUID, attempt_id: str, payment_id: str) -> RecordDisputeOpened:
    return RecordDisputeOpened(
        account_id=account_id,
        attempt_id=attempt_id,
        processor_payment_id=payment_id,
        dispute_id="dp_1",
        amount=1500,
        currency="USD",
    )


def test_a_refund_is_recorded_once_and_the_processor_is_not_asked(
    deps: Deps, gateway: FakeGateway
) -> None:
    account_id, attempt_id, payment_id = charged(deps, gateway)
    cmd = refund_cmd(account_id, attempt_id, payment_id)
    assert record_refund(deps, cmd, webhook()) is Outcome.RECORDED
    assert record_refund(deps, cmd, webhook()) is Outcome.ALREADY_RECORDED
    ctx = webhook()
    assert record_refund(deps, cmd, ctx) is Outcome.ALREADY_RECORDED
    assert record_refund(deps, cmd, ctx) is Outcome.ALREADY_RECORDED  # a replayed command id
    account = load_account(deps.app, account_id)
    assert account.attempts[attempt_id].refunded == 500
    assert account.refund_ids == {"re_1": attempt_id}
    assert gateway.refunds == []


def test_refunds_that_contradict_the_ledger_are_refused(deps: Deps, gateway: FakeGateway) -> None:
    account_id, attempt_id, payment_id = charged(deps, gateway)
    with pytest.raises(ProcessorPaymentMismatch):
        record_refund(deps, refund_cmd(account_id, attempt_id, "pi_other"), webhook())
    with pytest.raises(RefundTooLarge):
        record_refund(
            deps, refund_cmd(account_id, attempt_id, payment_id, amount=PRICE + 1), webhook()
        )
    with pytest.raises(CurrencyMismatch):
        record_refund(
            deps, refund_cmd(account_id, attempt_id, payment_id, currency="EUR"), webhook()
        )
    assert load_account(deps.app, account_id).attempts[attempt_id].refunded == 0


def test_a_refund_of_an_attempt_in_flight_records_the_success_first(
    deps: Deps, gateway: FakeGateway
) -> None:
    account_id, attempt_id, payment_id = charged(deps, gateway, pending=True)
    cmd = refund_cmd(account_id, attempt_id, payment_id, amount=PRICE)
    assert record_refund(deps, cmd, webhook()) is Outcome.RECORDED
    attempt = load_account(deps.app, account_id).attempts[attempt_id]
    assert (attempt.status, attempt.processor_payment_id) == (AttemptStatus.SUCCEEDED, payment_id)
    assert attempt.refunded == PRICE


def test_a_dispute_closed_first_records_the_opening_too_and_the_late_opening_nothing(
    deps: Deps, gateway: FakeGateway
) -> None:
    account_id, attempt_id, payment_id = charged(deps, gateway)
    opened = dispute_cmd(account_id, attempt_id, payment_id)
    closed = RecordDisputeClosed(**opened.model_dump(), won=False)
    assert record_dispute_closed(deps, closed, webhook()) is Outcome.RECORDED
    assert record_dispute_opened(deps, opened, webhook()) is Outcome.ALREADY_RECORDED
    won = RecordDisputeClosed(**opened.model_dump(), won=True)
    assert record_dispute_closed(deps, won, webhook()) is Outcome.ALREADY_RECORDED
    attempt = load_account(deps.app, account_id).attempts[attempt_id]
    assert (attempt.dispute, attempt.disputed_amount) == (DisputeStatus.LOST, 1500)


def test_a_dispute_opens_then_closes(deps: Deps, gateway: FakeGateway) -> None:
    account_id, attempt_id, payment_id = charged(deps, gateway)
    opened = dispute_cmd(account_id, attempt_id, payment_id)
    assert record_dispute_opened(deps, opened, webhook()) is Outcome.RECORDED
    assert record_dispute_opened(deps, opened, webhook()) is Outcome.ALREADY_RECORDED
    attempt = load_account(deps.app, account_id).attempts[attempt_id]
    assert attempt.dispute is DisputeStatus.NEEDS_RESPONSE
    won = RecordDisputeClosed(**opened.model_dump(), won=True)
    assert record_dispute_closed(deps, won, webhook()) is Outcome.RECORDED
    assert load_account(deps.app, account_id).attempts[attempt_id].dispute is DisputeStatus.WON


def test_a_revoked_agreement_revokes_its_method_once(deps: Deps, gateway: FakeGateway) -> None:
    account_id = usd_account(deps)
    add_paypal(deps, account_id)
    cmd = RecordPayPalRevoked(account_id=account_id, token=PAYPAL)
    assert record_paypal_revoked(deps, cmd, webhook()) is Outcome.RECORDED
    assert record_paypal_revoked(deps, cmd, webhook()) is Outcome.ALREADY_RECORDED
    account = load_account(deps.app, account_id)
    [paypal] = [m for m in account.methods.values() if m.processor_ref == PAYPAL]
    assert paypal.state is MethodState.REVOKED
    with pytest.raises(MethodNotFound):
        record_paypal_revoked(
            deps, RecordPayPalRevoked(account_id=account_id, token=CARD), webhook()
        )


def test_a_refund_command_whose_refund_the_webhook_recorded_first_records_nothing_more(
    deps: Deps, gateway: FakeGateway
) -> None:
    account_id, attempt_id, payment_id = charged(deps, gateway)
    ctx = support_ctx("refund", uuid4())
    ours = new_id_for(deps, ctx, "refund")  # the refund id the command will use
    cmd = refund_cmd(account_id, attempt_id, payment_id, refund_id=ours)
    assert record_refund(deps, cmd, webhook()) is Outcome.RECORDED  # Stripe's webhook won

    refund = RefundPayment(account_id=account_id, attempt_id=attempt_id, amount=500)
    refunds.refund_payment(deps, refund, ctx)
    account = load_account(deps.app, account_id)
    assert account.attempts[attempt_id].refunded == 500
    assert account.refund_ids == {ours: attempt_id}
    assert gateway.refunds == []
