"""Bad debt on the Account: an uncollectible invoice flags the account (derived, never
stored), blocks purchases, is paid only through the guarded bad-debt path, is written off
only by support, and a recovery shows as recovered."""

import pytest

from ledger import events as ev
from ledger.errors import BadDebtBlocked, SupportOnly
from ledger.invoices import (
    DisplayStatus,
    InvalidTransition,
    InvoiceNotFound,
    InvoiceStatus,
    display_status,
)
from ledger.journal import LedgerAccount as L
from ledger.meta import ActorKind
from ledger.payments import AttemptInFlight, AttemptPurpose, Processor
from tests.unit.given import (
    BASIC,
    PRO,
    Step,
    at,
    attempt,
    card,
    customer,
    failed,
    gbp,
    given,
    history,
    kinds,
    ledger_balance,
    meta,
    moves,
    paid,
    paypal,
    replayed,
    subscribed,
    succeeded,
    support,
    system,
    uncollectible,
)

BAD_DEBT = AttemptPurpose.BAD_DEBT
LATER = at(days=40)


def in_bad_debt() -> list[Step]:
    """A card customer whose first invoice (3000) went uncollectible on day 30."""
    return [card(), subscribed(), uncollectible("inv-sub-1", when=at(days=30))]


def lifting() -> list[Step]:
    """In bad debt, with a bad-debt payment in flight."""
    return [*in_bad_debt(), attempt("att-bd", "inv-sub-1", purpose=BAD_DEBT, when=LATER)]


# --- becoming bad debt ------------------------------------------------------------------------


def test_marking_an_invoice_uncollectible_records_when() -> None:
    account = given(card(), subscribed())
    account.mark_uncollectible("inv-sub-1", system(at(days=30)))
    [event] = account.collect_events()
    assert isinstance(event, ev.InvoiceMarkedUncollectible)
    invoice = account.invoices["inv-sub-1"]
    assert (invoice.status, invoice.marked_uncollectible_at) == (
        InvoiceStatus.UNCOLLECTIBLE,
        at(days=30),
    )


def test_an_uncollectible_invoice_is_still_owed() -> None:
    account = given(card(), subscribed())
    account.mark_uncollectible("inv-sub-1", system(at(days=30)))
    [event] = account.collect_events()
    assert not hasattr(event, "journal")
    assert account.receivable == gbp(3000)


def test_an_uncollectible_invoice_flags_the_account_as_bad_debt() -> None:
    account = given(card(), subscribed())
    assert not account.bad_debt
    account.mark_uncollectible("inv-sub-1", system(at(days=30)))
    assert account.bad_debt


def test_the_bad_debt_flag_is_derived_from_the_invoices_not_stored() -> None:
    account = given(*in_bad_debt())
    assert account.bad_debt
    assert not any("bad_debt" in name for name in vars(account))


def test_an_invoice_with_a_payment_in_flight_cannot_be_marked_uncollectible() -> None:
    account = given(card(), subscribed(), attempt("att-1"))
    with pytest.raises(AttemptInFlight):
        account.mark_uncollectible("inv-sub-1", system(at(days=30)))
    assert account.collect_events() == []


def test_a_paid_invoice_cannot_be_marked_uncollectible() -> None:
    account = given(card(), subscribed(), paid("att-1"))
    with pytest.raises(InvalidTransition):
        account.mark_uncollectible("inv-sub-1", system(at(days=30)))
    assert account.collect_events() == []


def test_an_uncollectible_invoice_cannot_be_marked_again() -> None:
    account = given(*in_bad_debt())
    with pytest.raises(InvalidTransition):
        account.mark_uncollectible("inv-sub-1", system(LATER))
    assert account.collect_events() == []


def test_an_unknown_invoice_cannot_be_marked_uncollectible() -> None:
    account = given(card())
    with pytest.raises(InvoiceNotFound):
        account.mark_uncollectible("inv-9", system())
    assert account.collect_events() == []


# --- consequences -------------------------------------------------------------------------------


def test_bad_debt_blocks_new_subscriptions() -> None:
    account = given(*in_bad_debt())
    with pytest.raises(BadDebtBlocked):
        account.subscribe("sub-2", BASIC, "inv-2", True, customer(LATER))
    assert account.collect_events() == []


def test_bad_debt_blocks_plan_changes() -> None:
    account = given(card(), subscribed(plan=BASIC), uncollectible("inv-sub-1"))
    with pytest.raises(BadDebtBlocked):
        account.change_plan("sub-1", BASIC, PRO, "inv-up", customer(at(days=10)))
    assert account.collect_events() == []


def test_bad_debt_still_lets_the_customer_cancel() -> None:
    account = given(*in_bad_debt())
    account.cancel_subscription("sub-1", False, customer(LATER))
    assert not account.subscriptions["sub-1"].active


def test_bad_debt_is_not_collected_through_the_regular_collection_path() -> None:
    account = given(*in_bad_debt())
    with pytest.raises(InvalidTransition):
        account.start_attempt("att-1", "inv-sub-1", "card-1", AttemptPurpose.COLLECTION, system())
    assert account.collect_events() == []


def test_bad_debt_is_not_collected_as_an_on_session_payment() -> None:
    account = given(*in_bad_debt())
    with pytest.raises(InvalidTransition):
        account.start_attempt("att-1", "inv-sub-1", "card-1", AttemptPurpose.ON_SESSION, customer())
    assert account.collect_events() == []


def test_a_bad_debt_payment_is_refused_for_an_invoice_that_is_not_bad_debt() -> None:
    account = given(card(), subscribed())
    with pytest.raises(InvalidTransition):
        account.start_attempt("att-1", "inv-sub-1", "card-1", BAD_DEBT, customer())
    assert account.collect_events() == []


# --- paying bad debt ----------------------------------------------------------------------------


def test_a_bad_debt_payment_in_flight_puts_the_account_in_lifting() -> None:
    account = given(*in_bad_debt())
    assert not account.lifting_bad_debt
    account.start_attempt("att-bd", "inv-sub-1", "card-1", BAD_DEBT, customer(LATER))
    assert account.lifting_bad_debt
    assert account.bad_debt


def test_while_lifting_a_second_bad_debt_payment_is_refused() -> None:
    account = given(*lifting())
    with pytest.raises(AttemptInFlight):
        account.start_attempt("att-bd2", "inv-sub-1", "card-1", BAD_DEBT, customer(LATER))
    assert account.collect_events() == []


def test_while_lifting_the_invoice_cannot_be_written_off() -> None:
    account = given(*lifting())
    with pytest.raises(AttemptInFlight):
        account.void_invoice("inv-sub-1", support(LATER))
    assert account.collect_events() == []


def test_while_lifting_the_invoice_cannot_be_paid_out_of_band() -> None:
    account = given(*lifting())
    with pytest.raises(AttemptInFlight):
        account.pay_out_of_band("inv-sub-1", Processor.BRAINTREE, "bt_txn", support(LATER))
    assert account.collect_events() == []


def test_a_successful_bad_debt_payment_recovers_the_invoice_and_clears_the_flag() -> None:
    account = given(*lifting())
    account.record_success("att-bd", "pi_bd", customer(LATER))
    [event] = account.collect_events()
    assert isinstance(event, ev.PaymentSucceeded)
    assert moves(event) == {L.CASH_STRIPE: 3000, L.RECEIVABLE: -3000}
    assert (account.bad_debt, account.lifting_bad_debt) == (False, False)
    assert account.receivable == gbp(0)


def test_a_recovered_bad_debt_keeps_both_dates_and_shows_as_recovered() -> None:
    account = given(*lifting(), succeeded("att-bd", when=LATER))
    invoice = account.invoices["inv-sub-1"]
    assert (invoice.status, invoice.marked_uncollectible_at, invoice.paid_at) == (
        InvoiceStatus.PAID,
        at(days=30),
        LATER,
    )
    assert display_status(invoice, at(days=41)) is DisplayStatus.RECOVERED


def test_a_bad_debt_recovered_through_paypal_shows_as_recovered() -> None:
    account = given(
        paypal("pp-1", default=True),
        subscribed(),
        uncollectible("inv-sub-1", when=at(days=30)),
        paid("att-bd", method_id="pp-1", purpose=BAD_DEBT, when=LATER),
    )
    invoice = account.invoices["inv-sub-1"]
    assert invoice.paid_out_of_band
    assert display_status(invoice, at(days=41)) is DisplayStatus.RECOVERED


def test_a_failed_bad_debt_payment_leaves_the_debt_and_the_flag() -> None:
    account = given(*lifting())
    account.record_failure("att-bd", "insufficient_funds", customer(LATER))
    assert kinds(account.collect_events()) == ["PaymentFailed"]
    assert account.invoices["inv-sub-1"].status is InvoiceStatus.UNCOLLECTIBLE
    assert (account.bad_debt, account.lifting_bad_debt) == (True, False)


def test_the_flag_stays_until_every_uncollectible_invoice_is_settled() -> None:
    account = given(
        card(),
        subscribed("sub-1"),
        subscribed("sub-2", plan=BASIC),
        uncollectible("inv-sub-1", when=at(days=30)),
        uncollectible("inv-sub-2", when=at(days=30)),
        attempt("att-bd", "inv-sub-1", purpose=BAD_DEBT, when=LATER),
    )
    account.record_success("att-bd", "pi_bd", customer(LATER))
    assert account.bad_debt
    assert account.receivable == gbp(1000)


def test_purchases_are_blocked_until_every_uncollectible_invoice_is_settled() -> None:
    account = given(
        card(),
        subscribed("sub-1"),
        subscribed("sub-2", plan=BASIC),
        uncollectible("inv-sub-1", when=at(days=30)),
        uncollectible("inv-sub-2", when=at(days=30)),
        paid("att-bd", "inv-sub-1", purpose=BAD_DEBT, when=LATER),
    )
    with pytest.raises(BadDebtBlocked):
        account.subscribe("sub-3", BASIC, "inv-3", True, customer(LATER))
    assert account.collect_events() == []


def test_purchases_are_allowed_again_after_recovery() -> None:
    account = given(*lifting(), succeeded("att-bd", when=LATER))
    account.subscribe("sub-2", BASIC, "inv-2", True, customer(LATER))
    assert account.subscriptions["sub-2"].active


def test_a_bad_debt_paid_out_of_band_shows_as_recovered() -> None:
    account = given(*in_bad_debt())
    account.pay_out_of_band("inv-sub-1", Processor.STRIPE, "bank-transfer-7", support(LATER))
    assert not account.bad_debt
    invoice = account.invoices["inv-sub-1"]
    assert display_status(invoice, at(days=41)) is DisplayStatus.RECOVERED


# --- writing off --------------------------------------------------------------------------------


def test_support_writes_off_bad_debt_as_an_expense() -> None:
    account = given(*in_bad_debt())
    account.void_invoice("inv-sub-1", support(LATER, reason="customer insolvent"))
    [event] = account.collect_events()
    assert isinstance(event, ev.InvoiceVoided)
    assert moves(event) == {L.BAD_DEBT_EXPENSE: 3000, L.RECEIVABLE: -3000}
    assert event.meta.reason == "customer insolvent"
    assert (account.bad_debt, account.receivable) == (False, gbp(0))


def test_a_written_off_invoice_shows_as_written_off() -> None:
    account = given(*in_bad_debt(), lambda a: a.void_invoice("inv-sub-1", support(LATER)))
    invoice = account.invoices["inv-sub-1"]
    assert display_status(invoice, at(days=41)) is DisplayStatus.WRITTEN_OFF


@pytest.mark.parametrize("kind", [ActorKind.CUSTOMER, ActorKind.SERVICE, ActorKind.SYSTEM])
def test_only_support_writes_off_bad_debt(kind: ActorKind) -> None:
    account = given(*in_bad_debt())
    with pytest.raises(SupportOnly):
        account.void_invoice("inv-sub-1", meta(LATER, kind=kind))
    assert account.collect_events() == []
    assert account.bad_debt


def test_a_recovered_invoice_cannot_be_written_off() -> None:
    account = given(*lifting(), succeeded("att-bd", when=LATER))
    with pytest.raises(InvalidTransition):
        account.void_invoice("inv-sub-1", support(LATER))
    assert account.collect_events() == []


def test_a_written_off_invoice_cannot_be_paid() -> None:
    account = given(*in_bad_debt(), lambda a: a.void_invoice("inv-sub-1", support(LATER)))
    with pytest.raises(InvalidTransition):
        account.start_attempt("att-bd", "inv-sub-1", "card-1", BAD_DEBT, customer(LATER))
    assert account.collect_events() == []


def test_the_receivable_journal_agrees_with_the_invoices_through_bad_debt() -> None:
    events = history(
        card(),
        subscribed("sub-1"),
        subscribed("sub-2", plan=BASIC),
        subscribed("sub-3"),
        uncollectible("inv-sub-1", when=at(days=30)),
        uncollectible("inv-sub-2", when=at(days=30)),
        paid("att-bd", "inv-sub-1", purpose=BAD_DEBT, when=LATER),
        lambda a: a.void_invoice("inv-sub-2", support(LATER)),
        attempt("att-3", "inv-sub-3", when=LATER),
        failed("att-3", when=LATER),
    )
    account = replayed(events)
    assert ledger_balance(events, L.RECEIVABLE) == account.receivable.amount == 3000
    assert ledger_balance(events, L.BAD_DEBT_EXPENSE) == 1000
