"""Handlers of the billing domain with an in-memory store and a scripted fake gateway."""

from __future__ import annotations

import dataclasses
from uuid import UUID, uuid4

import pytest

from commands import bad_debt, billing, credits, dunning, methods, refunds
from commands.base import Deps, NoProcessor, load_account
from commands.errors import CommandIdRequired, InvoiceNotUncollectible
from commands.models import (
    AddCard,
    CancelSubscription,
    GrantCredit,
    PayBadDebt,
    PayInvoice,
    RefundPayment,
    RunBilling,
    Subscribe,
    WriteOffBadDebt,
)
from commands.ports import ProcessorUnavailable
from ledger.errors import BadDebtBlocked, SupportOnly
from ledger.events import MoneyMoved
from ledger.invoices import InvoiceNotFound, InvoiceStatus
from ledger.journal import LedgerAccount, totals_by_currency
from ledger.methods import CollectionPath
from ledger.payments import AttemptInFlight, AttemptStatus, Processor, RefundTooLarge
from ledger.subscriptions import SubscriptionStatus
from tests.fakes.billing import CARD, PAYPAL, add_paypal, subscribe, usd_account
from tests.fakes.builders import customer_ctx, in_memory_deps, support_ctx, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway

BACKUP = "pm_card_backup"


def journal_is_balanced_and_matches_receivable(deps: Deps, account_id: UUID) -> None:
    events = list(deps.app.events.get(account_id))
    postings = [p for e in events if isinstance(e, MoneyMoved) for p in e.journal.postings]
    assert all(
        v == 0
        for e in events
        if isinstance(e, MoneyMoved)
        for v in totals_by_currency(e.journal.postings).values()
    )
    receivable = sum(p.amount.amount for p in postings if p.account is LedgerAccount.RECEIVABLE)
    assert receivable == load_account(deps.app, account_id).receivable.amount


def test_an_on_session_subscription_is_charged_at_once(deps: Deps, gateway: FakeGateway) -> None:
    account_id = usd_account(deps)
    result = subscribe(deps, account_id)
    assert result.payment is not None
    assert result.payment.status is AttemptStatus.SUCCEEDED
    [charge] = gateway.charges
    assert (charge.amount.amount, charge.processor, charge.on_session) == (
        2000,
        Processor.STRIPE,
        True,
    )
    account = load_account(deps.app, account_id)
    assert account.invoices[str(result.invoice_id)].status is InvoiceStatus.PAID
    journal_is_balanced_and_matches_receivable(deps, account_id)


def test_a_declined_on_session_payment_rolls_back_and_never_enters_dunning(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id = usd_account(deps)
    gateway.decline_next(CARD, "insufficient_funds")
    result = subscribe(deps, account_id)
    account = load_account(deps.app, account_id)
    assert account.invoices[str(result.invoice_id)].status is InvoiceStatus.VOID
    assert account.subscriptions[str(result.subscription_id)].status is SubscriptionStatus.CANCELED
    clock.advance(days=30)
    report = dunning.run_billing(deps, RunBilling(account_ids=[account_id]), system_ctx())
    assert (report.attempts, report.exhausted, len(gateway.charges)) == ([], [], 1)
    assert not load_account(deps.app, account_id).bad_debt
    journal_is_balanced_and_matches_receivable(deps, account_id)


def test_paypal_invoices_are_sent_and_collected_when_due(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id = usd_account(deps)
    add_paypal(deps, account_id)
    assert load_account(deps.app, account_id).collection_path is CollectionPath.PAYPAL_SEND_INVOICE
    result = subscribe(deps, account_id, on_session=False)
    assert result.payment is None
    assert gateway.charges == []
    clock.advance(days=6)
    dunning.run_billing(deps, RunBilling(account_ids=[account_id]), system_ctx())
    assert gateway.charges == []
    clock.advance(days=1, seconds=1)
    report = dunning.run_billing(deps, RunBilling(account_ids=[account_id]), system_ctx())
    [charge] = gateway.charges
    assert (charge.processor, charge.method_ref) == (Processor.BRAINTREE, PAYPAL)
    assert report.attempts[0].status is AttemptStatus.SUCCEEDED
    invoice = load_account(deps.app, account_id).invoices[str(result.invoice_id)]
    assert (invoice.status, invoice.paid_out_of_band) == (InvoiceStatus.PAID, True)


def test_renewals_bill_the_next_period(deps: Deps, gateway: FakeGateway, clock: FixedClock) -> None:
    account_id = usd_account(deps)
    subscribe(deps, account_id)
    clock.advance(days=31)
    report = dunning.run_billing(deps, RunBilling(account_ids=[account_id]), system_ctx())
    again = dunning.run_billing(deps, RunBilling(account_ids=[account_id]), system_ctx())
    assert (report.renewed, again.renewed, len(gateway.charges)) == (1, 0, 2)
    numbers = sorted(i.number or "" for i in load_account(deps.app, account_id).invoices.values())
    assert [n[-4:] for n in numbers] == ["0001", "0002"]


def test_exhausted_dunning_makes_bad_debt_that_blocks_purchases_until_paid(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id = usd_account(deps)
    subscribe(deps, account_id)
    clock.advance(days=31)
    gateway.always_decline(CARD, "insufficient_funds")
    run = RunBilling(account_ids=[account_id])
    for _ in range(12):
        dunning.run_billing(deps, run, system_ctx())
        clock.advance(days=1)
    account = load_account(deps.app, account_id)
    assert len(gateway.charges_for(CARD)) == 1 + 5  # first charge + renewal, then 4 retries
    assert account.bad_debt
    with pytest.raises(BadDebtBlocked):
        subscribe(deps, account_id)
    journal_is_balanced_and_matches_receivable(deps, account_id)

    gateway._always.clear()
    key = uuid4()
    report = bad_debt.pay_bad_debt(deps, PayBadDebt(account_id=account_id), customer_ctx(key))
    assert (len(report.recovered), report.bad_debt) == (1, False)
    repeat = bad_debt.pay_bad_debt(deps, PayBadDebt(account_id=account_id), customer_ctx(key))
    assert repeat.recovered == report.recovered
    assert len(gateway.charges_for(CARD)) == 7  # the repeat charged nothing
    journal_is_balanced_and_matches_receivable(deps, account_id)


def test_a_hard_decline_moves_to_the_backup_method_at_once(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id = usd_account(deps, card=BACKUP)
    cmd = AddCard(
        account_id=account_id,
        processor_ref=CARD,
        brand="visa",
        last4="1111",
        exp_month=1,
        exp_year=2031,
    )
    methods.add_card(deps, cmd, customer_ctx())
    gateway.decline_next(CARD, "expired_card")
    subscribe(deps, account_id, on_session=False)
    dunning.run_billing(deps, RunBilling(account_ids=[account_id]), system_ctx())
    assert [c.method_ref for c in gateway.charges] == [CARD, BACKUP]
    assert not load_account(deps.app, account_id).bad_debt


def test_pay_bad_debt_needs_a_key_and_a_partial_payment_keeps_the_flag(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id = usd_account(deps)
    gateway.always_decline(CARD, "insufficient_funds")
    subscribe(deps, account_id, on_session=False)
    subscribe(deps, account_id, on_session=False)
    clock.advance(days=1)
    for _ in range(10):
        dunning.run_billing(deps, RunBilling(account_ids=[account_id]), system_ctx())
        clock.advance(days=1)
    with pytest.raises(CommandIdRequired):
        bad_debt.pay_bad_debt(deps, PayBadDebt(account_id=account_id), customer_ctx())
    gateway._always.clear()
    gateway.decline_next(CARD, "insufficient_funds")
    report = bad_debt.pay_bad_debt(deps, PayBadDebt(account_id=account_id), customer_ctx(uuid4()))
    assert (len(report.recovered), len(report.still_uncollectible), report.bad_debt) == (1, 1, True)


def two_uncollectible(deps: Deps, gateway: FakeGateway, clock: FixedClock) -> UUID:
    account_id = usd_account(deps)
    gateway.always_decline(CARD, "insufficient_funds")
    subscribe(deps, account_id, on_session=False)
    subscribe(deps, account_id, on_session=False)
    clock.advance(days=1)
    for _ in range(10):
        dunning.run_billing(deps, RunBilling(account_ids=[account_id]), system_ctx())
        clock.advance(days=1)
    gateway._always.clear()
    return account_id


def test_pay_bad_debt_pays_the_invoices_chosen_and_keeps_the_flag_until_none_is_left(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id = two_uncollectible(deps, gateway, clock)
    first, second = sorted(load_account(deps.app, account_id).invoices)
    cmd = PayBadDebt(account_id=account_id, invoice_ids=[second])
    report = bad_debt.pay_bad_debt(deps, cmd, support_ctx("ticket 1", uuid4()))
    assert (report.recovered, report.still_uncollectible, report.bad_debt) == (
        [second],
        [first],
        True,
    )
    cmd = PayBadDebt(account_id=account_id, invoice_ids=[first])
    report = bad_debt.pay_bad_debt(deps, cmd, support_ctx("ticket 1", uuid4()))
    assert (report.recovered, report.still_uncollectible, report.bad_debt) == ([first], [], False)


def test_pay_bad_debt_refuses_an_invoice_it_cannot_pay_before_any_charge(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id = two_uncollectible(deps, gateway, clock)
    [uncollectible, *_] = sorted(load_account(deps.app, account_id).invoices)
    charged = len(gateway.charges)
    unknown = PayBadDebt(account_id=account_id, invoice_ids=[uncollectible, "inv-nowhere"])
    with pytest.raises(InvoiceNotFound):
        bad_debt.pay_bad_debt(deps, unknown, support_ctx("ticket 2", uuid4()))
    subscribe_paid = usd_account(deps)
    paid = subscribe(deps, subscribe_paid)
    not_bad = PayBadDebt(account_id=subscribe_paid, invoice_ids=[str(paid.invoice_id)])
    with pytest.raises(InvoiceNotUncollectible):
        bad_debt.pay_bad_debt(deps, not_bad, support_ctx("ticket 2", uuid4()))
    assert len(gateway.charges) == charged + 1  # the paid subscription's charge only


def test_only_support_writes_off_bad_debt(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id = usd_account(deps)
    gateway.always_decline(CARD, "insufficient_funds")
    result = subscribe(deps, account_id, on_session=False)
    for _ in range(10):
        clock.advance(days=1)
        dunning.run_billing(deps, RunBilling(account_ids=[account_id]), system_ctx())
    cmd = WriteOffBadDebt(account_id=account_id, invoice_id=str(result.invoice_id))
    with pytest.raises(SupportOnly):
        bad_debt.write_off_bad_debt(deps, cmd, customer_ctx())
    bad_debt.write_off_bad_debt(deps, cmd, support_ctx("customer insolvent"))
    account = load_account(deps.app, account_id)
    assert (account.bad_debt, account.receivable.amount) == (False, 0)
    journal_is_balanced_and_matches_receivable(deps, account_id)


def test_refunds_are_checked_before_the_processor_is_asked(
    deps: Deps, gateway: FakeGateway
) -> None:
    account_id = usd_account(deps)
    payment = subscribe(deps, account_id).payment
    assert payment is not None
    refunds.refund_payment(
        deps,
        RefundPayment(account_id=account_id, attempt_id=payment.attempt_id, amount=500),
        support_ctx("refund", uuid4()),
    )
    with pytest.raises(RefundTooLarge):
        refunds.refund_payment(
            deps,
            RefundPayment(account_id=account_id, attempt_id=payment.attempt_id, amount=1501),
            support_ctx("refund", uuid4()),
        )
    assert len(gateway.refunds) == 1
    journal_is_balanced_and_matches_receivable(deps, account_id)


def test_support_credit_is_applied_to_the_next_invoice(deps: Deps, gateway: FakeGateway) -> None:
    account_id = usd_account(deps)
    grant = GrantCredit(account_id=account_id, amount=2500, currency="USD")
    with pytest.raises(SupportOnly):
        credits.grant_credit(deps, grant, customer_ctx())
    credits.grant_credit(deps, grant, support_ctx("goodwill"))
    result = subscribe(deps, account_id)
    invoice = load_account(deps.app, account_id).invoices[str(result.invoice_id)]
    assert (invoice.status, invoice.amount_due.amount, gateway.charges) == (
        InvoiceStatus.PAID,
        0,
        [],
    )
    assert load_account(deps.app, account_id).credit_balance.amount == 500
    journal_is_balanced_and_matches_receivable(deps, account_id)


def test_an_unknown_outcome_stays_pending_and_is_never_charged_again(
    deps: Deps, gateway: FakeGateway
) -> None:
    account_id = usd_account(deps)
    result = subscribe(deps, account_id, on_session=False)
    assert result.payment is not None
    assert result.payment.status is AttemptStatus.SUCCEEDED
    subscribe_again = Subscribe(account_id=account_id, plan_id="pro-monthly-usd", on_session=False)
    gateway.go_down_next(CARD)
    with pytest.raises(ProcessorUnavailable):
        billing.subscribe(deps, subscribe_again, customer_ctx())
    pending = [a for a in load_account(deps.app, account_id).attempts.values() if a.in_flight]
    [attempt] = pending
    cmd = PayInvoice(account_id=account_id, invoice_id=attempt.invoice_id)
    with pytest.raises(AttemptInFlight):
        billing.pay_invoice(deps, cmd, customer_ctx())
    assert len(gateway.charges) == 2


def test_the_same_command_id_adds_one_card(deps: Deps) -> None:
    account_id = usd_account(deps, card=None)
    key = uuid4()
    cmd = AddCard(
        account_id=account_id,
        processor_ref=CARD,
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=2030,
    )
    first = methods.add_card(deps, cmd, customer_ctx(key))
    again = methods.add_card(deps, cmd, customer_ctx(key))
    assert (again.replayed, again.version) == (True, first.version)
    assert len(load_account(deps.app, account_id).methods) == 1


def test_without_a_processor_an_on_session_purchase_is_declined_and_rolled_back() -> None:
    deps = dataclasses.replace(in_memory_deps(), gateway=NoProcessor())
    account_id = usd_account(deps)
    result = subscribe(deps, account_id)
    assert result.payment is not None
    assert (result.payment.status, result.payment.decline_code) == (
        AttemptStatus.FAILED,
        "processor_not_configured",
    )
    account = load_account(deps.app, account_id)
    assert not any(a.in_flight for a in account.attempts.values())
    assert account.invoices[str(result.invoice_id)].status is InvoiceStatus.VOID


def test_in_bad_debt_renewals_are_suspended_but_a_scheduled_cancellation_still_ends(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    """What the console says of bad debt: no renewal, while a period-end cancellation ends."""
    account_id = usd_account(deps)
    kept = subscribe(deps, account_id).subscription_id
    ending = subscribe(deps, account_id).subscription_id
    assert kept is not None
    assert ending is not None
    clock.advance(days=31)
    gateway.always_decline(CARD, "insufficient_funds")
    run = RunBilling(account_ids=[account_id])
    for _ in range(12):  # both renewed once, then dunned into bad debt
        dunning.run_billing(deps, run, system_ctx())
        clock.advance(days=1)
    assert load_account(deps.app, account_id).bad_debt
    cancel = CancelSubscription(account_id=account_id, subscription_id=ending)
    billing.cancel_subscription(deps, cancel, customer_ctx())
    clock.advance(days=31)  # both periods have ended
    report = dunning.run_billing(deps, run, system_ctx())
    subs = load_account(deps.app, account_id).subscriptions
    assert report.renewed == 0
    assert subs[ending].status is SubscriptionStatus.CANCELED
    assert subs[kept].status is SubscriptionStatus.ACTIVE
    assert subs[kept].period_end < clock.now()  # active, its period not renewed
