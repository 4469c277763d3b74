"""Payment attempts, their outcomes, on-session rollback, refunds and disputes on the
Account: given events, when a command, then events (with balanced journal entries) or a
typed refusal that records nothing."""

import pytest

from ledger import events as ev
from ledger.errors import NothingToChange
from ledger.invoices import DisplayStatus, InvalidTransition, InvoiceNotFound, InvoiceStatus
from ledger.invoices import display_status as shown
from ledger.journal import LedgerAccount as L
from ledger.methods import MethodNotFound, MethodNotUsable
from ledger.money import CurrencyMismatch, Money
from ledger.payments import (
    AttemptInFlight,
    AttemptNotFound,
    AttemptNotPending,
    AttemptPurpose,
    AttemptStatus,
    DisputeStatus,
    FailureKind,
    InvalidDisputeTransition,
    Processor,
    RefundTooLarge,
)
from ledger.subscriptions import SubscriptionStatus
from tests.unit.given import (
    BASIC,
    PRO,
    Step,
    at,
    attempt,
    card,
    credit,
    customer,
    failed,
    gbp,
    given,
    kinds,
    meta,
    moves,
    paid,
    paypal,
    receivable_effect,
    subscribed,
    support,
    system,
)

ON_SESSION = AttemptPurpose.ON_SESSION
COLLECTION = AttemptPurpose.COLLECTION
HALF_PERIOD = at(days=15.5)


def upgraded_on_session() -> list[Step]:
    """A paid Basic subscription, upgraded to Pro mid-period with an on-session payment
    in flight for the upgrade invoice."""
    return [
        card(),
        subscribed(plan=BASIC),
        paid("att-1"),
        lambda a: a.change_plan(
            "sub-1", BASIC, PRO, "inv-up", customer(HALF_PERIOD), on_session=True
        ),
        attempt("att-up", "inv-up", purpose=ON_SESSION, when=HALF_PERIOD),
    ]


# --- starting attempts ------------------------------------------------------------------------


def test_starting_an_attempt_records_it_pending_for_the_amount_due() -> None:
    account = given(card(), subscribed())
    account.start_attempt("att-1", "inv-sub-1", "card-1", COLLECTION, system(at(hours=1)))
    [event] = account.collect_events()
    assert isinstance(event, ev.PaymentAttemptStarted)
    started = event.attempt
    assert (started.amount, started.status, started.started_at) == (
        gbp(3000),
        AttemptStatus.PENDING,
        at(hours=1),
    )
    assert account.attempts["att-1"].in_flight


def test_a_card_is_charged_through_stripe() -> None:
    account = given(card(), subscribed())
    attempt = account.start_attempt("att-1", "inv-sub-1", "card-1", COLLECTION, system())
    assert attempt.processor is Processor.STRIPE


def test_paypal_is_charged_through_braintree() -> None:
    account = given(paypal("pp-1", default=True), subscribed())
    attempt = account.start_attempt("att-1", "inv-sub-1", "pp-1", COLLECTION, system())
    assert attempt.processor is Processor.BRAINTREE


def test_an_attempt_charges_what_is_left_after_credits() -> None:
    account = given(card(), credit("cr-1", 1200), subscribed())
    attempt = account.start_attempt("att-1", "inv-sub-1", "card-1", COLLECTION, system())
    assert attempt.amount == gbp(1800)


def test_starting_the_same_attempt_again_returns_it_and_records_nothing() -> None:
    account = given(card(), subscribed(), attempt("att-1"))
    again = account.start_attempt("att-1", "inv-sub-1", "card-1", COLLECTION, system())
    assert again == account.attempts["att-1"]
    assert account.collect_events() == []


def test_never_two_attempts_in_flight_for_one_invoice() -> None:
    account = given(card(), card("card-2"), subscribed(), attempt("att-1"))
    with pytest.raises(AttemptInFlight):
        account.start_attempt("att-2", "inv-sub-1", "card-2", ON_SESSION, customer())
    assert account.collect_events() == []


def test_a_new_attempt_may_start_once_the_last_one_failed() -> None:
    account = given(card(), subscribed(), attempt("att-1"), failed("att-1"))
    account.start_attempt("att-2", "inv-sub-1", "card-1", COLLECTION, system(at(days=1)))
    assert kinds(account.collect_events()) == ["PaymentAttemptStarted"]


def test_attempts_for_different_invoices_may_be_in_flight_together() -> None:
    account = given(card(), subscribed("sub-1"), subscribed("sub-2"), attempt("att-1"))
    account.start_attempt("att-2", "inv-sub-2", "card-1", COLLECTION, system())
    assert account.attempts["att-1"].in_flight
    assert account.attempts["att-2"].in_flight


def test_a_paid_invoice_takes_no_further_attempt() -> None:
    account = given(card(), subscribed(), paid("att-1"))
    with pytest.raises(InvalidTransition):
        account.start_attempt("att-2", "inv-sub-1", "card-1", COLLECTION, system())
    assert account.collect_events() == []


def test_a_void_invoice_takes_no_attempt() -> None:
    account = given(card(), subscribed(), lambda a: a.void_invoice("inv-sub-1", meta()))
    with pytest.raises(InvalidTransition):
        account.start_attempt("att-1", "inv-sub-1", "card-1", COLLECTION, system())
    assert account.collect_events() == []


def test_an_attempt_on_an_unknown_invoice_is_refused() -> None:
    account = given(card())
    with pytest.raises(InvoiceNotFound):
        account.start_attempt("att-1", "inv-9", "card-1", COLLECTION, system())
    assert account.collect_events() == []


def test_an_attempt_with_an_unknown_method_is_refused() -> None:
    account = given(card(), subscribed())
    with pytest.raises(MethodNotFound):
        account.start_attempt("att-1", "inv-sub-1", "card-9", COLLECTION, system())
    assert account.collect_events() == []


def test_an_attempt_with_an_expired_method_is_refused() -> None:
    account = given(card(), subscribed(), lambda a: a.expire_method("card-1", system()))
    with pytest.raises(MethodNotUsable):
        account.start_attempt("att-1", "inv-sub-1", "card-1", COLLECTION, system())
    assert account.collect_events() == []


# --- success ------------------------------------------------------------------------------------


def test_a_successful_card_payment_pays_the_invoice() -> None:
    account = given(card(), subscribed(), attempt("att-1"))
    account.record_success("att-1", "pi_123", system(at(hours=1)))
    [event] = account.collect_events()
    assert isinstance(event, ev.PaymentSucceeded)
    invoice = account.invoices["inv-sub-1"]
    assert (invoice.status, invoice.paid_at, invoice.paid_out_of_band) == (
        InvoiceStatus.PAID,
        at(hours=1),
        False,
    )
    assert shown(invoice, at(days=1)) is DisplayStatus.PAID
    assert account.attempts["att-1"].processor_payment_id == "pi_123"


def test_a_successful_card_payment_moves_receivable_to_stripe_cash() -> None:
    account = given(card(), subscribed(), attempt("att-1"))
    account.record_success("att-1", "pi_123", system())
    [event] = account.collect_events()
    assert moves(event) == {L.CASH_STRIPE: 3000, L.RECEIVABLE: -3000}
    assert account.receivable == gbp(0)


def test_a_successful_paypal_payment_is_braintree_cash_and_paid_out_of_band() -> None:
    account = given(paypal("pp-1", default=True), subscribed(), attempt("att-1", method_id="pp-1"))
    account.record_success("att-1", "bt_txn_1", system())
    [event] = account.collect_events()
    assert moves(event) == {L.CASH_BRAINTREE: 3000, L.RECEIVABLE: -3000}
    assert account.invoices["inv-sub-1"].paid_out_of_band


def test_an_outcome_cannot_be_recorded_twice() -> None:
    account = given(card(), subscribed(), paid("att-1"))
    with pytest.raises(AttemptNotPending):
        account.record_success("att-1", "pi_again", system())
    with pytest.raises(AttemptNotPending):
        account.record_failure("att-1", "insufficient_funds", system())
    assert account.collect_events() == []


def test_an_outcome_for_an_unknown_attempt_is_refused() -> None:
    account = given(card(), subscribed())
    with pytest.raises(AttemptNotFound):
        account.record_success("att-9", "pi_1", system())
    assert account.collect_events() == []


# --- failure --------------------------------------------------------------------------------------


def test_an_off_session_failure_records_the_decline_and_leaves_the_invoice_owed() -> None:
    account = given(card(), subscribed(), attempt("att-1"))
    account.record_failure("att-1", "insufficient_funds", system())
    [event] = account.collect_events()
    assert isinstance(event, ev.PaymentFailed)
    assert not hasattr(event, "journal")
    assert account.invoices["inv-sub-1"].status is InvoiceStatus.OPEN
    assert account.receivable == gbp(3000)


@pytest.mark.parametrize(
    ("decline_code", "kind"),
    [
        ("insufficient_funds", FailureKind.SOFT),
        ("processing_error", FailureKind.SOFT),
        ("expired_card", FailureKind.HARD),
        ("account_closed", FailureKind.HARD),
        ("paypal_agreement_revoked", FailureKind.HARD),
    ],
)
def test_a_decline_is_told_hard_or_soft(decline_code: str, kind: FailureKind) -> None:
    account = given(card(), subscribed(), attempt("att-1"))
    account.record_failure("att-1", decline_code, system())
    assert account.attempts["att-1"].failure is kind


def test_a_failed_on_session_upgrade_voids_its_invoice_and_rolls_the_plan_back() -> None:
    account = given(*upgraded_on_session())
    account.record_failure("att-up", "card_declined", customer(HALF_PERIOD))
    events = account.collect_events()
    assert kinds(events) == ["PaymentFailed", "InvoiceVoided", "SubscriptionChanged"]
    assert isinstance(events[2], ev.SubscriptionChanged)
    assert events[2].change == "rolled_back"
    assert account.subscriptions["sub-1"].plan_id == BASIC.plan_id
    assert account.invoices["inv-up"].status is InvoiceStatus.VOID


def test_a_failed_on_session_upgrade_leaves_nothing_owed() -> None:
    account = given(*upgraded_on_session())
    account.record_failure("att-up", "card_declined", customer(HALF_PERIOD))
    voided = account.collect_events()[1]
    assert receivable_effect(voided) == -1000
    assert account.receivable == gbp(0)
    assert not account.bad_debt


def test_rolling_back_a_failed_upgrade_keeps_a_cancellation_made_meanwhile() -> None:
    account = given(
        *upgraded_on_session(),
        lambda a: a.cancel_subscription("sub-1", False, customer(HALF_PERIOD)),
    )
    account.record_failure("att-up", "card_declined", customer(HALF_PERIOD))
    sub = account.subscriptions["sub-1"]
    assert (sub.plan_id, sub.status, sub.canceled_at) == (
        BASIC.plan_id,
        SubscriptionStatus.CANCELED,
        HALF_PERIOD,
    )


def test_a_failed_on_session_subscription_is_canceled() -> None:
    account = given(card(), subscribed(on_session=True), attempt("att-1", purpose=ON_SESSION))
    account.record_failure("att-1", "card_declined", customer(at(hours=1)))
    sub = account.subscriptions["sub-1"]
    assert (sub.status, sub.canceled_at) == (SubscriptionStatus.CANCELED, at(hours=1))
    assert account.invoices["inv-sub-1"].status is InvoiceStatus.VOID


def test_a_failed_on_session_payment_gives_back_the_credit_its_invoice_used() -> None:
    account = given(
        card(),
        credit("cr-1", 500),
        subscribed(on_session=True),
        attempt("att-1", purpose=ON_SESSION),
    )
    account.record_failure("att-1", "card_declined", customer())
    voided = account.collect_events()[1]
    assert isinstance(voided, ev.InvoiceVoided)
    assert voided.credits_restored == {"cr-1": 500}
    assert account.credit_balance == gbp(500)


def test_a_failed_on_session_payment_of_a_renewal_leaves_it_owed_and_in_dunning() -> None:
    account = given(
        card(),
        subscribed(),
        paid("att-1"),
        lambda a: a.renew("sub-1", PRO, "inv-r", system(at(days=31))),
        attempt("att-2", "inv-r", purpose=ON_SESSION, when=at(days=32)),
    )
    account.record_failure("att-2", "card_declined", customer(at(days=32)))
    assert kinds(account.collect_events()) == ["PaymentFailed"]
    assert account.invoices["inv-r"].status is InvoiceStatus.OPEN
    assert account.subscriptions["sub-1"].active


def test_an_off_session_failure_of_an_upgrade_invoice_is_not_rolled_back() -> None:
    account = given(
        card(),
        subscribed(plan=BASIC),
        paid("att-1"),
        lambda a: a.change_plan("sub-1", BASIC, PRO, "inv-up", customer(HALF_PERIOD)),
        attempt("att-up", "inv-up", purpose=COLLECTION, when=HALF_PERIOD),
    )
    account.record_failure("att-up", "insufficient_funds", system(HALF_PERIOD))
    assert kinds(account.collect_events()) == ["PaymentFailed"]
    assert account.subscriptions["sub-1"].plan_id == PRO.plan_id


# --- paid out of band -----------------------------------------------------------------------


def test_paying_out_of_band_records_the_processor_reference() -> None:
    account = given(paypal("pp-1", default=True), subscribed())
    account.pay_out_of_band("inv-sub-1", Processor.BRAINTREE, "bt_txn_9", system(at(days=8)))
    [event] = account.collect_events()
    assert isinstance(event, ev.InvoicePaidOutOfBand)
    assert (event.processor, event.reference) == ("braintree", "bt_txn_9")
    assert moves(event) == {L.CASH_BRAINTREE: 3000, L.RECEIVABLE: -3000}
    invoice = account.invoices["inv-sub-1"]
    assert (invoice.status, invoice.paid_out_of_band, invoice.paid_at) == (
        InvoiceStatus.PAID,
        True,
        at(days=8),
    )


def test_an_invoice_with_a_payment_in_flight_cannot_be_paid_out_of_band() -> None:
    account = given(card(), subscribed(), attempt("att-1"))
    with pytest.raises(AttemptInFlight):
        account.pay_out_of_band("inv-sub-1", Processor.BRAINTREE, "bt_txn_9", system())
    assert account.collect_events() == []


def test_a_paid_invoice_cannot_be_paid_out_of_band_again() -> None:
    account = given(card(), subscribed(), paid("att-1"))
    with pytest.raises(InvalidTransition):
        account.pay_out_of_band("inv-sub-1", Processor.BRAINTREE, "bt_txn_9", system())
    assert account.collect_events() == []


# --- refunds ----------------------------------------------------------------------------------


def test_a_partial_refund_is_recorded_against_the_payment() -> None:
    account = given(card(), subscribed(), paid("att-1"))
    account.refund("att-1", "re_1", gbp(1000), support())
    [event] = account.collect_events()
    assert isinstance(event, ev.RefundIssued)
    assert (event.refund_id, event.amount) == ("re_1", 1000)
    assert account.attempts["att-1"].refundable == gbp(2000)


def test_a_refund_returns_cash_and_leaves_receivable_untouched() -> None:
    account = given(card(), subscribed(), paid("att-1"))
    account.refund("att-1", "re_1", gbp(1000), support())
    [event] = account.collect_events()
    assert moves(event) == {L.REFUNDS: 1000, L.CASH_STRIPE: -1000}
    assert receivable_effect(event) == 0
    assert account.invoices["inv-sub-1"].status is InvoiceStatus.PAID


def test_a_paypal_refund_returns_braintree_cash() -> None:
    account = given(paypal("pp-1", default=True), subscribed(), paid("att-1", method_id="pp-1"))
    account.refund("att-1", "re_1", gbp(3000), support())
    [event] = account.collect_events()
    assert moves(event) == {L.REFUNDS: 3000, L.CASH_BRAINTREE: -3000}


def test_refunds_may_add_up_to_what_was_captured() -> None:
    account = given(
        card(),
        subscribed(),
        paid("att-1"),
        lambda a: a.refund("att-1", "re_1", gbp(1000), support()),
    )
    account.refund("att-1", "re_2", gbp(2000), support())
    assert account.attempts["att-1"].refundable == gbp(0)


def test_refunds_never_exceed_what_was_captured() -> None:
    account = given(
        card(),
        subscribed(),
        paid("att-1"),
        lambda a: a.refund("att-1", "re_1", gbp(2000), support()),
    )
    with pytest.raises(RefundTooLarge):
        account.refund("att-1", "re_2", gbp(1001), support())
    assert account.collect_events() == []


def test_a_refund_larger_than_the_payment_is_refused() -> None:
    account = given(card(), subscribed(), paid("att-1"))
    with pytest.raises(RefundTooLarge):
        account.refund("att-1", "re_1", gbp(3001), support())
    assert account.collect_events() == []


@pytest.mark.parametrize("amount", [0, -100])
def test_a_refund_must_be_positive(amount: int) -> None:
    account = given(card(), subscribed(), paid("att-1"))
    with pytest.raises(RefundTooLarge):
        account.refund("att-1", "re_1", gbp(amount), support())
    assert account.collect_events() == []


def test_a_refund_in_another_currency_is_refused() -> None:
    account = given(card(), subscribed(), paid("att-1"))
    with pytest.raises(CurrencyMismatch):
        account.refund("att-1", "re_1", Money(100, "USD"), support())
    assert account.collect_events() == []


def test_a_failed_payment_cannot_be_refunded() -> None:
    account = given(card(), subscribed(), attempt("att-1"), failed("att-1"))
    with pytest.raises(RefundTooLarge):
        account.refund("att-1", "re_1", gbp(100), support())
    assert account.collect_events() == []


def test_a_payment_in_flight_cannot_be_refunded() -> None:
    account = given(card(), subscribed(), attempt("att-1"))
    with pytest.raises(RefundTooLarge):
        account.refund("att-1", "re_1", gbp(100), support())
    assert account.collect_events() == []


def test_a_refund_id_is_recorded_once() -> None:
    account = given(
        card(),
        subscribed(),
        paid("att-1"),
        lambda a: a.refund("att-1", "re_1", gbp(100), support()),
    )
    with pytest.raises(NothingToChange):
        account.refund("att-1", "re_1", gbp(100), support())
    assert account.collect_events() == []


def test_refunding_an_unknown_payment_is_refused() -> None:
    account = given(card(), subscribed(), paid("att-1"))
    with pytest.raises(AttemptNotFound):
        account.refund("att-9", "re_1", gbp(100), support())
    assert account.collect_events() == []


def test_money_withdrawn_by_an_open_dispute_cannot_also_be_refunded() -> None:
    account = given(
        card(),
        subscribed(),
        paid("att-1"),
        lambda a: a.open_dispute("att-1", "dp_1", gbp(3000), system()),
    )
    with pytest.raises(RefundTooLarge):
        account.refund("att-1", "re_1", gbp(100), support())
    assert account.collect_events() == []


def test_a_lost_dispute_leaves_only_the_undisputed_part_refundable() -> None:
    account = given(
        card(),
        subscribed(),
        paid("att-1"),
        lambda a: a.open_dispute("att-1", "dp_1", gbp(1000), system()),
        lambda a: a.close_dispute("att-1", False, system()),
    )
    with pytest.raises(RefundTooLarge):
        account.refund("att-1", "re_1", gbp(2001), support())
    account.refund("att-1", "re_1", gbp(2000), support())
    assert account.attempts["att-1"].refundable == gbp(0)


def test_a_won_dispute_makes_the_payment_refundable_again() -> None:
    account = given(
        card(),
        subscribed(),
        paid("att-1"),
        lambda a: a.open_dispute("att-1", "dp_1", gbp(3000), system()),
        lambda a: a.close_dispute("att-1", True, system()),
    )
    assert account.attempts["att-1"].refundable == gbp(3000)


# --- disputes ---------------------------------------------------------------------------------


def test_opening_a_dispute_moves_the_withdrawn_funds_out_of_cash() -> None:
    account = given(card(), subscribed(), paid("att-1"))
    account.open_dispute("att-1", "dp_1", gbp(3000), system())
    [event] = account.collect_events()
    assert isinstance(event, ev.DisputeOpened)
    assert moves(event) == {L.DISPUTED_FUNDS: 3000, L.CASH_STRIPE: -3000}
    attempt = account.attempts["att-1"]
    assert (attempt.dispute, attempt.disputed_amount) == (DisputeStatus.NEEDS_RESPONSE, 3000)


def test_a_won_dispute_returns_the_funds_to_cash() -> None:
    account = given(
        card(),
        subscribed(),
        paid("att-1"),
        lambda a: a.open_dispute("att-1", "dp_1", gbp(3000), system()),
    )
    account.close_dispute("att-1", True, system())
    [event] = account.collect_events()
    assert isinstance(event, ev.DisputeClosed)
    assert moves(event) == {L.CASH_STRIPE: 3000, L.DISPUTED_FUNDS: -3000}
    assert account.attempts["att-1"].dispute is DisputeStatus.WON


def test_a_lost_dispute_is_booked_as_a_loss() -> None:
    account = given(
        card(),
        subscribed(),
        paid("att-1"),
        lambda a: a.open_dispute("att-1", "dp_1", gbp(1000), system()),
    )
    account.close_dispute("att-1", False, system())
    [event] = account.collect_events()
    assert moves(event) == {L.DISPUTE_LOSSES: 1000, L.DISPUTED_FUNDS: -1000}
    assert account.attempts["att-1"].dispute is DisputeStatus.LOST
    assert account.invoices["inv-sub-1"].status is InvoiceStatus.PAID


def test_a_payment_is_disputed_only_once() -> None:
    account = given(
        card(),
        subscribed(),
        paid("att-1"),
        lambda a: a.open_dispute("att-1", "dp_1", gbp(1000), system()),
    )
    with pytest.raises(InvalidDisputeTransition):
        account.open_dispute("att-1", "dp_2", gbp(1000), system())
    assert account.collect_events() == []


def test_a_dispute_cannot_exceed_the_payment() -> None:
    account = given(card(), subscribed(), paid("att-1"))
    with pytest.raises(InvalidDisputeTransition):
        account.open_dispute("att-1", "dp_1", gbp(3001), system())
    assert account.collect_events() == []


def test_a_failed_payment_cannot_be_disputed() -> None:
    account = given(card(), subscribed(), attempt("att-1"), failed("att-1"))
    with pytest.raises(InvalidDisputeTransition):
        account.open_dispute("att-1", "dp_1", gbp(100), system())
    assert account.collect_events() == []


def test_a_dispute_that_is_not_open_cannot_be_closed() -> None:
    account = given(card(), subscribed(), paid("att-1"))
    with pytest.raises(InvalidDisputeTransition):
        account.close_dispute("att-1", True, system())
    assert account.collect_events() == []


def test_a_closed_dispute_cannot_be_closed_again() -> None:
    account = given(
        card(),
        subscribed(),
        paid("att-1"),
        lambda a: a.open_dispute("att-1", "dp_1", gbp(1000), system()),
        lambda a: a.close_dispute("att-1", True, system()),
    )
    with pytest.raises(InvalidDisputeTransition):
        account.close_dispute("att-1", False, system())
    assert account.collect_events() == []
