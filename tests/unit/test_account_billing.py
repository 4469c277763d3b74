"""Subscriptions, invoices and proration on the Account: given events, when a command, then
events (with balanced journal entries) or a typed refusal that records nothing."""

from datetime import UTC, datetime

import pytest

from ledger import events as ev
from ledger.account import Account
from ledger.errors import AccountClosed, AccountNotSettled, CurrencyLocked, NothingToChange
from ledger.invoices import (
    DisplayStatus,
    InvalidTransition,
    InvoiceNotFound,
    InvoiceStatus,
    display_status,
)
from ledger.journal import LedgerAccount as L
from ledger.money import CurrencyMismatch
from ledger.payments import AttemptInFlight
from ledger.subscriptions import (
    Plan,
    PlanMismatch,
    SamePlan,
    SubscriptionNotActive,
    SubscriptionNotFound,
    SubscriptionStatus,
)
from tests.unit.given import (
    BASIC,
    PRO,
    PRO_USD,
    PRO_YEARLY,
    PROFILE,
    at,
    attempt,
    card,
    customer,
    gbp,
    given,
    kinds,
    meta,
    moves,
    paid,
    paypal,
    receivable_effect,
    subscribed,
    system,
)

HALF_PERIOD = at(days=15.5)  # half of the first period, 2026-01-01 09:00 -> 2026-02-01 09:00
ODD = Plan("odd-monthly", "Odd", 1, gbp(999))
EVEN = Plan("even-monthly", "Even", 1, gbp(2000))


def subscribe(account: Account, sub_id: str = "sub-1", plan: Plan = PRO) -> None:
    account.subscribe(sub_id, plan, f"inv-{sub_id}", False, customer())


# --- subscribing --------------------------------------------------------------------------


def test_subscribing_records_the_subscription_then_drafts_and_finalizes_its_invoice() -> None:
    account = given(card())
    subscribe(account)
    events = account.collect_events()
    assert kinds(events) == ["Subscribed", "InvoiceDrafted", "InvoiceFinalized"]


def test_a_new_subscription_runs_one_interval_from_now() -> None:
    account = given(card())
    subscribe(account)
    sub = account.subscriptions["sub-1"]
    assert (sub.plan_id, sub.period_start, sub.period_end, sub.status) == (
        "pro-monthly",
        at(),
        datetime(2026, 2, 1, 9, 0, tzinfo=UTC),
        SubscriptionStatus.ACTIVE,
    )


def test_a_yearly_subscription_runs_twelve_months() -> None:
    account = given(card())
    subscribe(account, plan=PRO_YEARLY)
    assert account.subscriptions["sub-1"].period_end == datetime(2027, 1, 1, 9, 0, tzinfo=UTC)


def test_a_subscription_started_on_the_31st_ends_on_the_last_day_of_a_shorter_month() -> None:
    account = given(card())
    account.subscribe("sub-1", PRO, "inv-1", False, customer(datetime(2026, 1, 31, tzinfo=UTC)))
    assert account.subscriptions["sub-1"].period_end == datetime(2026, 2, 28, tzinfo=UTC)


def test_the_subscription_invoice_is_open_and_owes_the_plan_price() -> None:
    account = given(card())
    subscribe(account)
    invoice = account.invoices["inv-sub-1"]
    [line] = invoice.lines
    assert (invoice.status, invoice.amount_due, invoice.finalized_at) == (
        InvoiceStatus.OPEN,
        gbp(3000),
        at(),
    )
    assert (line.amount, line.subscription_id, line.period_start, line.period_end) == (
        gbp(3000),
        "sub-1",
        at(),
        datetime(2026, 2, 1, 9, 0, tzinfo=UTC),
    )


def test_finalizing_books_the_invoice_to_receivable_and_revenue() -> None:
    account = given(card())
    subscribe(account)
    finalized = account.collect_events()[-1]
    assert isinstance(finalized, ev.InvoiceFinalized)
    assert moves(finalized) == {L.RECEIVABLE: 3000, L.REVENUE: -3000}
    assert account.receivable == gbp(3000)


def test_an_invoice_collected_automatically_has_no_due_date_and_is_not_past_due() -> None:
    account = given(card())
    subscribe(account)
    invoice = account.invoices["inv-sub-1"]
    assert invoice.due_at is None
    assert display_status(invoice, at(days=30)) is DisplayStatus.OPEN


def test_an_invoice_sent_to_a_paypal_customer_is_due_in_seven_days() -> None:
    account = given(paypal(default=True))
    subscribe(account)
    assert account.invoices["inv-sub-1"].due_at == at(days=7)


def test_an_open_invoice_shows_past_due_once_its_due_date_has_passed() -> None:
    account = given(paypal(default=True), subscribed())
    invoice = account.invoices["inv-sub-1"]
    assert display_status(invoice, at(days=7)) is DisplayStatus.OPEN
    assert display_status(invoice, at(days=7, seconds=1)) is DisplayStatus.PAST_DUE


def test_an_on_session_subscription_remembers_what_a_failed_payment_rolls_back() -> None:
    account = given(card())
    account.subscribe("sub-1", PRO, "inv-1", True, customer())
    assert account.invoices["inv-1"].on_session_change == "subscribe"


def test_an_off_session_subscription_has_nothing_to_roll_back() -> None:
    account = given(card())
    account.subscribe("sub-1", PRO, "inv-1", False, customer())
    assert account.invoices["inv-1"].on_session_change is None


def test_subscribing_to_a_plan_in_another_currency_is_refused() -> None:
    account = given(card())
    with pytest.raises(CurrencyMismatch):
        subscribe(account, plan=PRO_USD)
    assert account.collect_events() == []


def test_a_closed_account_cannot_subscribe() -> None:
    account = given(lambda a: a.close(meta()))
    with pytest.raises(AccountClosed):
        subscribe(account)
    assert account.collect_events() == []


def test_subscribing_with_an_invoice_id_already_used_records_nothing() -> None:
    account = given(card(), subscribed("sub-1"))
    with pytest.raises(NothingToChange):
        account.subscribe("sub-2", PRO, "inv-sub-1", False, customer())
    assert account.collect_events() == []
    assert list(account.subscriptions) == ["sub-1"]


def test_subscribing_with_a_subscription_id_already_used_is_refused() -> None:
    account = given(card(), subscribed("sub-1"))
    with pytest.raises(NothingToChange):
        account.subscribe("sub-1", BASIC, "inv-2", False, customer(at(days=3)))
    assert account.collect_events() == []
    assert account.subscriptions["sub-1"].plan_id == PRO.plan_id


# --- invoice numbers and currency ---------------------------------------------------------


def test_invoice_numbers_are_gap_free_per_account_in_finalization_order() -> None:
    account = given(card())
    for n in (1, 2, 3):
        subscribe(account, f"sub-{n}")
    prefix = account.id.hex[:8].upper()
    assert [account.invoices[f"inv-sub-{n}"].number for n in (1, 2, 3)] == [
        f"{prefix}-0001",
        f"{prefix}-0002",
        f"{prefix}-0003",
    ]


def test_a_voided_invoice_keeps_its_number_and_the_next_one_follows_it() -> None:
    account = given(card(), subscribed("sub-1"), lambda a: a.void_invoice("inv-sub-1", meta()))
    subscribe(account, "sub-2")
    assert account.invoices["inv-sub-1"].number is not None
    assert account.invoices["inv-sub-1"].number.endswith("-0001")
    assert account.invoices["inv-sub-2"].number is not None
    assert account.invoices["inv-sub-2"].number.endswith("-0002")


def test_a_downgrade_credit_takes_no_invoice_number() -> None:
    account = given(
        card(),
        subscribed("sub-1"),
        lambda a: a.change_plan("sub-1", PRO, BASIC, "inv-down", customer(HALF_PERIOD)),
    )
    subscribe(account, "sub-2")
    assert account.invoices["inv-sub-2"].number is not None
    assert account.invoices["inv-sub-2"].number.endswith("-0002")


def test_each_account_numbers_its_own_invoices_from_one() -> None:
    first, second = given(card(), subscribed()), given(card(), subscribed())
    assert first.invoices["inv-sub-1"].number != second.invoices["inv-sub-1"].number
    for account in (first, second):
        assert account.invoices["inv-sub-1"].number == f"{account.id.hex[:8].upper()}-0001"


def test_the_currency_can_change_before_any_invoice_is_finalized() -> None:
    account = given(card())
    account.update_profile(PROFILE.with_changes(currency="EUR"), customer())
    assert account.profile.currency == "EUR"


def test_the_currency_is_locked_after_the_first_finalized_invoice() -> None:
    account = given(card(), subscribed())
    with pytest.raises(CurrencyLocked):
        account.update_profile(PROFILE.with_changes(currency="EUR"), customer())
    assert account.collect_events() == []


def test_other_profile_fields_can_change_after_the_currency_is_locked() -> None:
    account = given(card(), subscribed())
    account.update_profile(PROFILE.with_changes(name="Ada King"), customer())
    assert account.profile.name == "Ada King"


# --- voiding --------------------------------------------------------------------------------


def test_voiding_an_open_invoice_reverses_its_booking() -> None:
    account = given(card(), subscribed())
    account.void_invoice("inv-sub-1", meta())
    [event] = account.collect_events()
    assert isinstance(event, ev.InvoiceVoided)
    assert moves(event) == {L.REVENUE: 3000, L.RECEIVABLE: -3000}
    assert account.receivable == gbp(0)
    assert display_status(account.invoices["inv-sub-1"], at(days=1)) is DisplayStatus.VOID


def test_a_paid_invoice_cannot_be_voided() -> None:
    account = given(card(), subscribed(), paid("att-1"))
    with pytest.raises(InvalidTransition):
        account.void_invoice("inv-sub-1", meta())
    assert account.collect_events() == []


def test_a_void_invoice_cannot_be_voided_again() -> None:
    account = given(card(), subscribed(), lambda a: a.void_invoice("inv-sub-1", meta()))
    with pytest.raises(InvalidTransition):
        account.void_invoice("inv-sub-1", meta())
    assert account.collect_events() == []


def test_an_invoice_with_a_payment_in_flight_cannot_be_voided() -> None:
    account = given(card(), subscribed(), attempt("att-1"))
    with pytest.raises(AttemptInFlight):
        account.void_invoice("inv-sub-1", meta())
    assert account.collect_events() == []


def test_voiding_an_unknown_invoice_is_refused() -> None:
    account = given(card())
    with pytest.raises(InvoiceNotFound):
        account.void_invoice("inv-9", meta())
    assert account.collect_events() == []


# --- plan changes and proration -------------------------------------------------------------


def test_an_upgrade_moves_the_subscription_to_the_new_plan_for_the_same_period() -> None:
    account = given(card(), subscribed(plan=BASIC))
    account.change_plan("sub-1", BASIC, PRO, "inv-up", customer(HALF_PERIOD))
    sub = account.subscriptions["sub-1"]
    assert (sub.plan_id, sub.period_start, sub.period_end) == (
        PRO.plan_id,
        at(),
        datetime(2026, 2, 1, 9, 0, tzinfo=UTC),
    )


def test_a_plan_change_keeps_a_scheduled_cancellation() -> None:
    account = given(
        card(), subscribed(plan=BASIC), lambda a: a.cancel_subscription("sub-1", True, meta())
    )
    account.change_plan("sub-1", BASIC, PRO, "inv-up", customer(HALF_PERIOD))
    assert account.subscriptions["sub-1"].cancel_at_period_end


def test_an_upgrade_records_the_change_and_an_invoice_for_the_rest_of_the_period() -> None:
    account = given(card(), subscribed(plan=BASIC))
    account.change_plan("sub-1", BASIC, PRO, "inv-up", customer(HALF_PERIOD))
    events = account.collect_events()
    assert kinds(events) == ["SubscriptionChanged", "InvoiceDrafted", "InvoiceFinalized"]
    assert isinstance(events[0], ev.SubscriptionChanged)
    assert events[0].change == "plan:basic-monthly"


def test_an_upgrade_credits_unused_time_and_charges_the_rest_of_the_period() -> None:
    account = given(card(), subscribed(plan=BASIC))
    net = account.change_plan("sub-1", BASIC, PRO, "inv-up", customer(HALF_PERIOD))
    credit_line, charge_line = account.invoices["inv-up"].lines
    assert (credit_line.amount, charge_line.amount, net) == (gbp(-500), gbp(1500), gbp(1000))
    assert (charge_line.period_start, charge_line.period_end) == (
        HALF_PERIOD,
        datetime(2026, 2, 1, 9, 0, tzinfo=UTC),
    )


def test_the_upgrade_invoice_books_the_net_amount_to_receivable() -> None:
    account = given(card(), subscribed(plan=BASIC), paid("att-1"))
    account.change_plan("sub-1", BASIC, PRO, "inv-up", customer(HALF_PERIOD))
    finalized = account.collect_events()[-1]
    assert receivable_effect(finalized) == 1000
    assert moves(finalized) == {L.RECEIVABLE: 1000, L.REVENUE: -1000}


def test_each_proration_line_rounds_half_away_from_zero_on_its_own() -> None:
    account = given(card(), subscribed(plan=ODD))
    net = account.change_plan("sub-1", ODD, EVEN, "inv-up", customer(HALF_PERIOD))
    credit_line, charge_line = account.invoices["inv-up"].lines
    # 999 / 2 = 499.5 -> 500 and 2000 / 2 = 1000: 500 net, not round(1001 / 2) = 501
    assert (credit_line.amount, charge_line.amount, net) == (gbp(-500), gbp(1000), gbp(500))


def test_a_negative_proration_line_also_rounds_away_from_zero() -> None:
    account = given(card(), subscribed(plan=EVEN))
    net = account.change_plan("sub-1", EVEN, ODD, "inv-down", customer(HALF_PERIOD))
    # credit 2000 / 2 = 1000; charge 999 / 2 = 499.5 -> 500
    assert net == gbp(-500)


def test_proration_counts_whole_seconds_of_the_time_left() -> None:
    period = 31 * 24 * 3600
    per_second = Plan("per-second", "Metered", 1, gbp(2 * period))  # 2 minor units a second
    account = given(card(), subscribed(plan=BASIC))
    account.change_plan("sub-1", BASIC, per_second, "inv-up", customer(at(days=15.5, seconds=0.5)))
    charge_line = account.invoices["inv-up"].lines[1]
    # 1_339_199.5 s are left; the half second is dropped: 1_339_199 s * 2
    assert charge_line.amount == gbp(2_678_398)


def test_a_downgrade_grants_the_difference_as_credit_and_issues_no_invoice() -> None:
    account = given(card(), subscribed(plan=PRO), paid("att-1"))
    net = account.change_plan("sub-1", PRO, BASIC, "inv-down", customer(HALF_PERIOD))
    events = account.collect_events()
    assert kinds(events) == ["SubscriptionChanged", "CreditGranted"]
    assert net == gbp(-1000)
    assert "inv-down" not in account.invoices
    assert account.credit_balance == gbp(1000)
    assert moves(events[1]) == {L.CREDITS_GRANTED: 1000, L.CUSTOMER_CREDIT: -1000}


def test_a_change_with_no_time_left_moves_no_money() -> None:
    account = given(card(), subscribed(plan=BASIC))
    net = account.change_plan("sub-1", BASIC, PRO, "inv-up", customer(at(days=31)))
    assert net == gbp(0)
    assert kinds(account.collect_events()) == ["SubscriptionChanged"]


def test_changing_to_the_same_plan_is_refused() -> None:
    account = given(card(), subscribed(plan=PRO))
    with pytest.raises(SamePlan):
        account.change_plan("sub-1", PRO, PRO, "inv-up", customer(HALF_PERIOD))
    assert account.collect_events() == []


def test_changing_from_a_plan_the_subscription_is_not_on_is_refused() -> None:
    account = given(card(), subscribed(plan=BASIC))
    with pytest.raises(PlanMismatch):
        account.change_plan("sub-1", PRO_YEARLY, PRO, "inv-up", customer(HALF_PERIOD))
    assert account.collect_events() == []


def test_changing_to_a_plan_in_another_currency_is_refused() -> None:
    account = given(card(), subscribed(plan=PRO))
    with pytest.raises(CurrencyMismatch):
        account.change_plan("sub-1", PRO, PRO_USD, "inv-up", customer(HALF_PERIOD))
    assert account.collect_events() == []


def test_a_canceled_subscription_cannot_change_plan() -> None:
    account = given(
        card(), subscribed(), lambda a: a.cancel_subscription("sub-1", False, customer())
    )
    with pytest.raises(SubscriptionNotActive):
        account.change_plan("sub-1", PRO, BASIC, "inv-down", customer(HALF_PERIOD))
    assert account.collect_events() == []


def test_an_unknown_subscription_cannot_change_plan() -> None:
    account = given(card())
    with pytest.raises(SubscriptionNotFound):
        account.change_plan("sub-9", PRO, BASIC, "inv-down", customer(HALF_PERIOD))
    assert account.collect_events() == []


def test_an_upgrade_with_an_invoice_id_already_used_records_nothing() -> None:
    account = given(card(), subscribed(plan=BASIC))
    with pytest.raises(NothingToChange):
        account.change_plan("sub-1", BASIC, PRO, "inv-sub-1", customer(HALF_PERIOD))
    assert account.collect_events() == []
    assert account.subscriptions["sub-1"].plan_id == BASIC.plan_id


def test_a_downgrade_with_an_id_already_used_does_not_replace_an_earlier_credit() -> None:
    account = given(
        card(),
        subscribed(plan=PRO),
        lambda a: a.change_plan("sub-1", PRO, BASIC, "chg-1", customer(at(days=10))),
        lambda a: a.change_plan("sub-1", BASIC, PRO, "chg-2", customer(at(days=11))),
    )
    balance = account.credit_balance
    with pytest.raises(NothingToChange):
        account.change_plan("sub-1", PRO, BASIC, "chg-1", customer(at(days=12)))
    assert account.collect_events() == []
    assert account.credit_balance == balance


# --- cancellation and renewal ---------------------------------------------------------------


def test_canceling_at_period_end_schedules_the_end() -> None:
    account = given(card(), subscribed())
    account.cancel_subscription("sub-1", True, customer())
    [event] = account.collect_events()
    assert isinstance(event, ev.SubscriptionChanged)
    assert event.change == "cancel_scheduled"
    sub = account.subscriptions["sub-1"]
    assert (sub.active, sub.cancel_at_period_end) == (True, True)


def test_scheduling_a_scheduled_cancellation_again_is_refused() -> None:
    account = given(card(), subscribed(), lambda a: a.cancel_subscription("sub-1", True, meta()))
    with pytest.raises(NothingToChange):
        account.cancel_subscription("sub-1", True, customer())
    assert account.collect_events() == []


def test_canceling_now_ends_the_subscription_at_once() -> None:
    account = given(card(), subscribed())
    account.cancel_subscription("sub-1", False, customer(at(days=3)))
    [event] = account.collect_events()
    assert isinstance(event, ev.SubscriptionChanged)
    assert event.change == "canceled"
    sub = account.subscriptions["sub-1"]
    assert (sub.status, sub.canceled_at) == (SubscriptionStatus.CANCELED, at(days=3))


def test_a_canceled_subscription_cannot_be_canceled_again() -> None:
    account = given(card(), subscribed(), lambda a: a.cancel_subscription("sub-1", False, meta()))
    with pytest.raises(SubscriptionNotActive):
        account.cancel_subscription("sub-1", False, customer())
    assert account.collect_events() == []


def test_canceling_an_unknown_subscription_is_refused() -> None:
    account = given(card())
    with pytest.raises(SubscriptionNotFound):
        account.cancel_subscription("sub-9", False, customer())
    assert account.collect_events() == []


def test_nothing_renews_before_the_period_ends() -> None:
    account = given(card(), subscribed())
    assert account.renew("sub-1", PRO, "inv-r", system(at(days=30))) is False
    assert account.collect_events() == []


def test_renewal_starts_the_next_period_and_invoices_it() -> None:
    account = given(card(), subscribed(), paid("att-1"))
    assert account.renew("sub-1", PRO, "inv-r", system(at(days=31))) is True
    events = account.collect_events()
    assert kinds(events) == ["SubscriptionChanged", "InvoiceDrafted", "InvoiceFinalized"]
    sub = account.subscriptions["sub-1"]
    assert (sub.period_start, sub.period_end) == (
        datetime(2026, 2, 1, 9, 0, tzinfo=UTC),
        datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
    )
    assert account.invoices["inv-r"].lines[0].period_start == sub.period_start
    assert receivable_effect(events[-1]) == 3000


def test_a_scheduled_cancellation_ends_the_subscription_at_period_end_without_invoice() -> None:
    account = given(card(), subscribed(), lambda a: a.cancel_subscription("sub-1", True, meta()))
    assert account.renew("sub-1", PRO, "inv-r", system(at(days=32))) is False
    [event] = account.collect_events()
    assert isinstance(event, ev.SubscriptionChanged)
    sub = account.subscriptions["sub-1"]
    assert (sub.status, sub.canceled_at) == (
        SubscriptionStatus.CANCELED,
        datetime(2026, 2, 1, 9, 0, tzinfo=UTC),
    )
    assert "inv-r" not in account.invoices


def test_a_renewal_with_an_invoice_id_already_used_records_nothing() -> None:
    account = given(card(), subscribed())
    with pytest.raises(NothingToChange):
        account.renew("sub-1", PRO, "inv-sub-1", system(at(days=31)))
    assert account.collect_events() == []
    assert account.subscriptions["sub-1"].period_start == at()


def test_a_renewal_on_another_plan_than_the_subscriptions_is_refused() -> None:
    account = given(card(), subscribed(plan=PRO))
    with pytest.raises(PlanMismatch):
        account.renew("sub-1", PRO_YEARLY, "inv-r", system(at(days=31)))
    assert account.collect_events() == []


def test_a_subscription_anchored_on_the_31st_returns_to_month_end_after_february() -> None:
    account = given(card())
    account.subscribe("sub-1", PRO, "inv-1", False, customer(datetime(2026, 1, 31, tzinfo=UTC)))
    account.renew("sub-1", PRO, "inv-2", system(datetime(2026, 2, 28, tzinfo=UTC)))
    assert account.subscriptions["sub-1"].period_end == datetime(2026, 3, 31, tzinfo=UTC)


# --- closing ----------------------------------------------------------------------------------


def test_an_account_with_an_active_subscription_cannot_close() -> None:
    account = given(card(), subscribed(), paid("att-1"))
    with pytest.raises(AccountNotSettled):
        account.close(customer())
    assert account.collect_events() == []


def test_an_account_that_still_owes_money_cannot_close() -> None:
    account = given(card(), subscribed(), lambda a: a.cancel_subscription("sub-1", False, meta()))
    with pytest.raises(AccountNotSettled):
        account.close(customer())
    assert account.collect_events() == []


def test_a_settled_account_closes() -> None:
    account = given(
        card(),
        subscribed(),
        paid("att-1"),
        lambda a: a.cancel_subscription("sub-1", False, meta()),
    )
    account.close(customer())
    assert kinds(account.collect_events()) == ["Closed"]
