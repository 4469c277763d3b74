"""The billing flows on real PostgreSQL: the container's real application (event store,
snapshots, optimistic concurrency) with the scripted fake gateway."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from adapters.bootstrap import Container, build
from adapters.settings import Settings
from commands import bad_debt, credits, dunning
from commands.application import SNAPSHOT_INTERVAL, LedgerApplication
from commands.base import Deps, load_account
from commands.errors import ConcurrencyConflict
from commands.models import (
    GrantCredit,
    PayBadDebt,
    RefundPayment,
    RunBilling,
)
from commands.refunds import refund_payment
from ledger import events as ev
from ledger.account import Account
from ledger.envelope import EventEnvelope
from ledger.errors import BadDebtBlocked
from ledger.events import MoneyMoved
from ledger.invoices import InvoiceStatus
from ledger.journal import LedgerAccount, totals_by_currency
from ledger.methods import CollectionPath
from ledger.payments import AttemptStatus, Processor, RefundTooLarge
from ledger.subscriptions import SubscriptionStatus
from tests.fakes.billing import CARD, PAYPAL, add_paypal, subscribe, usd_account
from tests.fakes.builders import customer_ctx, support_ctx, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway

PRICE = 2000


# --- helpers ---------------------------------------------------------------------------


def run_billing(deps: Deps, account_id: UUID) -> dunning.RunReport:
    report = dunning.run_billing(deps, RunBilling(account_ids=[account_id]), system_ctx())
    assert report.errors == {}
    return report


def replayed(app: LedgerApplication, account_id: UUID) -> Account:
    """The account folded from every stored event, no snapshot involved."""
    folded: Any = None
    for event in app.events.get(account_id):
        folded = event.mutate(folded)  # type: ignore[attr-defined]
    assert isinstance(folded, Account)
    return folded


def assert_journal_matches(app: LedgerApplication, account_id: UUID) -> None:
    """Read back from the store: every entry balances per currency, and the receivable
    postings sum to what the account's invoices still owe."""
    moved = [e for e in app.events.get(account_id) if isinstance(e, MoneyMoved)]
    for event in moved:
        assert set(totals_by_currency(event.journal.postings).values()) <= {0}, event
    account = load_account(app, account_id)
    receivable = sum(
        p.amount.amount
        for e in moved
        for p in e.journal.postings
        if p.account is LedgerAccount.RECEIVABLE and p.amount.currency == account.profile.currency
    )
    assert receivable == account.receivable.amount
    owed = sum(
        i.outstanding.amount
        for i in account.invoices.values()
        if i.status in (InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE)
    )
    assert receivable == owed


def _subclasses(cls: type[Any]) -> Iterator[type[Any]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def money_moving_types() -> set[str]:
    return {cls.__qualname__.replace(".", "") for cls in _subclasses(MoneyMoved)}


def envelope_postings(envelope: EventEnvelope) -> list[tuple[str, int, str]]:
    journal = envelope.data["journal"]
    return [
        (p["account"], p["amount"]["amount"], p["amount"]["currency"]) for p in journal["postings"]
    ]


def assert_envelopes_carry_balanced_journals(container: Container, deps: Deps) -> None:
    envelopes = container.reader.read_after(0, 100_000)
    assert envelopes
    assert [e.position for e in envelopes] == sorted({e.position for e in envelopes})
    moving = money_moving_types()
    receivable: dict[UUID, int] = {}
    for envelope in envelopes:
        if envelope.event_type not in moving:
            assert "journal" not in envelope.data, envelope.event_type
            continue
        postings = envelope_postings(envelope)
        assert postings, envelope
        totals: dict[str, int] = {}
        for account, amount, currency in postings:
            assert isinstance(amount, int)
            totals[currency] = totals.get(currency, 0) + amount
            if account == LedgerAccount.RECEIVABLE.value:
                receivable[envelope.account_id] = receivable.get(envelope.account_id, 0) + amount
        assert set(totals.values()) == {0}, (envelope.event_type, postings)
    for account_id in {e.account_id for e in envelopes}:
        expected = load_account(deps.app, account_id).receivable.amount
        assert receivable.get(account_id, 0) == expected


# --- flows -----------------------------------------------------------------------------


def test_an_on_session_subscription_is_charged_and_its_invoice_paid(
    container: Container, deps: Deps, gateway: FakeGateway
) -> None:
    account_id = usd_account(deps)
    result = subscribe(deps, account_id)
    assert result.payment is not None
    assert result.payment.status is AttemptStatus.SUCCEEDED
    assert result.payment.result.position == container.reader.head()
    [charge] = gateway.charges
    assert (charge.amount.amount, charge.amount.currency) == (PRICE, "USD")
    assert (charge.processor, charge.on_session, charge.method_ref) == (
        Processor.STRIPE,
        True,
        CARD,
    )
    assert charge.attempt_id == result.payment.attempt_id
    account = load_account(container.app, account_id)
    invoice = account.invoices[str(result.invoice_id)]
    assert (invoice.status, invoice.amount_due.amount) == (InvoiceStatus.PAID, PRICE)
    assert account.subscriptions[str(result.subscription_id)].active
    assert account.receivable.amount == 0
    kinds = [e.event_type for e in container.reader.read_after(0, 100)]
    assert kinds == [
        "AccountOpened",
        "PaymentMethodAdded",
        "Subscribed",
        "InvoiceDrafted",
        "InvoiceFinalized",
        "PaymentAttemptStarted",
        "PaymentSucceeded",
    ]
    assert_journal_matches(container.app, account_id)
    assert_envelopes_carry_balanced_journals(container, deps)


def test_a_declined_on_session_payment_is_rolled_back(
    container: Container, deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id = usd_account(deps)
    gateway.decline_next(CARD, "insufficient_funds")
    result = subscribe(deps, account_id)
    assert result.payment is not None
    assert (result.payment.status, result.payment.decline_code) == (
        AttemptStatus.FAILED,
        "insufficient_funds",
    )
    account = load_account(container.app, account_id)
    assert account.invoices[str(result.invoice_id)].status is InvoiceStatus.VOID
    assert account.subscriptions[str(result.subscription_id)].status is SubscriptionStatus.CANCELED
    assert account.receivable.amount == 0
    clock.advance(days=40)
    report = run_billing(deps, account_id)
    assert (report.renewed, report.attempts, report.exhausted) == (0, [], [])
    assert len(gateway.charges) == 1
    assert not load_account(container.app, account_id).bad_debt
    assert_journal_matches(container.app, account_id)
    assert_envelopes_carry_balanced_journals(container, deps)


def test_a_paypal_send_invoice_is_collected_on_its_due_date(
    container: Container, deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id = usd_account(deps)
    add_paypal(deps, account_id)
    account = load_account(container.app, account_id)
    assert account.collection_path is CollectionPath.PAYPAL_SEND_INVOICE
    result = subscribe(deps, account_id, on_session=False)
    assert (result.payment, gateway.charges) == (None, [])
    invoice = load_account(container.app, account_id).invoices[str(result.invoice_id)]
    assert invoice.status is InvoiceStatus.OPEN
    assert invoice.due_at is not None
    assert_journal_matches(container.app, account_id)

    clock.advance(days=6)
    assert run_billing(deps, account_id).attempts == []
    assert gateway.charges == []

    clock.current = invoice.due_at
    report = run_billing(deps, account_id)
    [charge] = gateway.charges
    assert (charge.processor, charge.method_ref, charge.amount.amount) == (
        Processor.BRAINTREE,
        PAYPAL,
        PRICE,
    )
    assert [a.status for a in report.attempts] == [AttemptStatus.SUCCEEDED]
    paid = load_account(container.app, account_id).invoices[str(result.invoice_id)]
    assert (paid.status, paid.paid_out_of_band) == (InvoiceStatus.PAID, True)
    assert run_billing(deps, account_id).attempts == []  # nothing left to collect
    assert len(gateway.charges) == 1
    assert_journal_matches(container.app, account_id)
    assert_envelopes_carry_balanced_journals(container, deps)


def test_renewals_over_several_periods_have_gap_free_numbers(
    container: Container, deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id = usd_account(deps)
    subscribe(deps, account_id)
    periods = 5
    for _ in range(periods):
        clock.advance(days=31)
        assert run_billing(deps, account_id).renewed == 1
        assert run_billing(deps, account_id).renewed == 0  # a rerun is harmless
    assert len(gateway.charges) == 1 + periods
    account = load_account(container.app, account_id)
    prefix = account.number_prefix
    expected = [f"{prefix}-{n:04d}" for n in range(1, periods + 2)]
    finalized = [
        e.data["number"]
        for e in container.reader.read_after(0, 100_000)
        if e.event_type == "InvoiceFinalized"
    ]
    assert finalized == expected  # in store order, no gaps, no repeats
    assert sorted(str(i.number) for i in account.invoices.values()) == expected
    assert all(i.status is InvoiceStatus.PAID for i in account.invoices.values())
    [sub] = account.subscriptions.values()
    assert sub.active
    assert sub.period_end > clock.now()
    assert_journal_matches(container.app, account_id)
    assert_envelopes_carry_balanced_journals(container, deps)


def test_exhausted_dunning_becomes_bad_debt_that_pay_bad_debt_recovers_once(
    container: Container, deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id = usd_account(deps)
    subscribe(deps, account_id)
    clock.advance(days=31)
    gateway.always_decline(CARD, "insufficient_funds")
    exhausted: list[str] = []
    for _ in range(12):
        exhausted += run_billing(deps, account_id).exhausted
        clock.advance(days=1)
    account = load_account(container.app, account_id)
    assert len(gateway.charges_for(CARD)) == 1 + 5  # first charge, renewal, then 4 retries
    assert account.bad_debt
    [bad] = exhausted
    assert account.invoices[bad].status is InvoiceStatus.UNCOLLECTIBLE
    assert account.receivable.amount == PRICE
    with pytest.raises(BadDebtBlocked):
        subscribe(deps, account_id)
    assert len(gateway.charges) == 6
    assert_journal_matches(container.app, account_id)

    gateway._always.clear()
    key = uuid4()
    report = bad_debt.pay_bad_debt(deps, PayBadDebt(account_id=account_id), customer_ctx(key))
    assert (report.recovered, report.still_uncollectible, report.bad_debt) == ([bad], [], False)
    assert len(gateway.charges_for(CARD)) == 7
    head = container.reader.head()
    repeat = bad_debt.pay_bad_debt(deps, PayBadDebt(account_id=account_id), customer_ctx(key))
    assert (repeat.recovered, repeat.bad_debt) == (report.recovered, False)
    assert len(gateway.charges_for(CARD)) == 7  # the repeat charged nothing
    assert container.reader.head() == head  # and recorded nothing
    account = load_account(container.app, account_id)
    assert (account.bad_debt, account.receivable.amount) == (False, 0)
    assert account.invoices[bad].status is InvoiceStatus.PAID
    assert subscribe(deps, account_id).payment is not None  # purchases allowed again
    assert_journal_matches(container.app, account_id)
    assert_envelopes_carry_balanced_journals(container, deps)


def test_support_credit_is_applied_at_finalization(
    container: Container, deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id = usd_account(deps)
    grant = GrantCredit(account_id=account_id, amount=2500, currency="USD")
    credits.grant_credit(deps, grant, support_ctx("goodwill"))
    first = subscribe(deps, account_id)
    account = load_account(container.app, account_id)
    invoice = account.invoices[str(first.invoice_id)]
    assert (invoice.status, invoice.amount_due.amount) == (InvoiceStatus.PAID, 0)
    assert (first.payment, gateway.charges) == (None, [])
    assert account.credit_balance.amount == 500
    kinds = [e.event_type for e in container.reader.read_after(0, 100)]
    assert kinds[-2:] == ["InvoiceFinalized", "InvoiceCoveredByCredit"]

    clock.advance(days=31)
    assert run_billing(deps, account_id).renewed == 1  # the rest of the credit, then the card
    [charge] = gateway.charges
    assert charge.amount.amount == PRICE - 500
    account = load_account(container.app, account_id)
    assert account.credit_balance.amount == 0
    assert all(i.status is InvoiceStatus.PAID for i in account.invoices.values())
    assert_journal_matches(container.app, account_id)
    assert_envelopes_carry_balanced_journals(container, deps)


def test_a_partial_refund_is_recorded_and_an_over_refund_refused(
    container: Container, deps: Deps, gateway: FakeGateway
) -> None:
    account_id = usd_account(deps)
    payment = subscribe(deps, account_id).payment
    assert payment is not None
    refund = RefundPayment(account_id=account_id, attempt_id=payment.attempt_id, amount=500)
    refund_payment(deps, refund, support_ctx("refund", uuid4()))
    head = container.reader.head()
    too_much = refund.model_copy(update={"amount": PRICE - 500 + 1})
    with pytest.raises(RefundTooLarge):
        refund_payment(deps, too_much, support_ctx("refund", uuid4()))
    assert container.reader.head() == head
    assert [r.amount.amount for r in gateway.refunds] == [500]  # the processor was never asked
    rest = refund.model_copy(update={"amount": PRICE - 500})
    refund_payment(deps, rest, support_ctx("refund", uuid4()))
    assert [r.amount.amount for r in gateway.refunds] == [500, PRICE - 500]
    with pytest.raises(RefundTooLarge):
        refund_payment(
            deps, refund.model_copy(update={"amount": 1}), support_ctx("refund", uuid4())
        )
    refunds = [e for e in container.app.events.get(account_id) if isinstance(e, ev.RefundIssued)]
    assert [r.amount for r in refunds] == [500, PRICE - 500]
    for r in refunds:
        assert r.journal.balance_of(LedgerAccount.REFUNDS, "USD") == r.amount
        assert r.journal.balance_of(LedgerAccount.CASH_STRIPE, "USD") == -r.amount
    assert_journal_matches(container.app, account_id)
    assert_envelopes_carry_balanced_journals(container, deps)


def test_a_long_account_loads_from_its_snapshot_in_a_new_application(
    container: Container,
    deps: Deps,
    gateway: FakeGateway,
    clock: FixedClock,
    database_url: str,
) -> None:
    account_id = usd_account(deps)
    subscribe(deps, account_id)
    while load_account(container.app, account_id).version <= SNAPSHOT_INTERVAL + 5:
        clock.advance(days=31)
        assert run_billing(deps, account_id).renewed == 1
    head_version = load_account(container.app, account_id).version
    assert head_version > SNAPSHOT_INTERVAL

    settings = Settings(database_url=database_url, kafka_bootstrap=None, pool_size=2)
    with build(settings, clock=clock) as other:
        assert other.app is not container.app
        snapshots = list(other.app.snapshots.get(account_id))  # type: ignore[union-attr]
        assert [s.originator_version for s in snapshots] == [SNAPSHOT_INTERVAL]
        loaded = load_account(other.app, account_id)
        from_events = replayed(other.app, account_id)
        assert loaded.version == from_events.version == head_version
        assert loaded.__dict__ == from_events.__dict__
        # The snapshot itself is the state the events reach at its version.
        at_snapshot: Any = None
        for event in other.app.events.get(account_id, lte=SNAPSHOT_INTERVAL):
            at_snapshot = event.mutate(at_snapshot)  # type: ignore[attr-defined]
        assert snapshots[0].mutate(None).__dict__ == at_snapshot.__dict__
        # And the new instance acts on it like the first one would.
        other_deps = dataclasses.replace(other.deps, gateway=gateway)
        clock.advance(days=31)
        assert run_billing(other_deps, account_id).renewed == 1
        assert (
            load_account(container.app, account_id).__dict__
            == replayed(container.app, account_id).__dict__
        )
        assert_journal_matches(other.app, account_id)


def test_the_journal_read_back_from_the_store_matches_the_receivable(
    container: Container, deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    """Several accounts through a mix of flows, some invoices still owed at the end."""
    paid = usd_account(deps)
    subscribe(deps, paid)
    credited = usd_account(deps)
    credits.grant_credit(
        deps, GrantCredit(account_id=credited, amount=700, currency="USD"), support_ctx()
    )
    subscribe(deps, credited, on_session=False)
    paypal = usd_account(deps)
    add_paypal(deps, paypal)
    subscribe(deps, paypal, on_session=False)  # open until its due date
    dunned = usd_account(deps)
    gateway.always_decline(CARD, "card_declined")
    subscribe(deps, dunned, on_session=False)  # open, in dunning
    clock.advance(days=1)
    run_billing(deps, dunned)
    accounts = [paid, credited, paypal, dunned]
    assert load_account(container.app, paypal).receivable.amount == PRICE
    assert load_account(container.app, dunned).receivable.amount == PRICE
    for account_id in accounts:
        assert_journal_matches(container.app, account_id)
    kinds = {e.event_type for e in container.reader.read_after(0, 100_000)}
    assert {"InvoiceFinalized", "PaymentSucceeded", "CreditGranted"} <= kinds & money_moving_types()
    assert_envelopes_carry_balanced_journals(container, deps)


class RendezvousClock:
    """Stops each thread's first reading of the time until every party has loaded the
    account: all then act on the same version, so all but one save must conflict."""

    def __init__(self, inner: FixedClock, barrier: threading.Barrier) -> None:
        self.inner = inner
        self.barrier = barrier
        self.readings = 0
        self._met = False

    def now(self) -> datetime:
        self.readings += 1
        if not self._met:
            self._met = True
            self.barrier.wait(timeout=30)
        return self.inner.now()


def test_concurrent_commands_from_two_applications_are_both_recorded(
    container: Container, clock: FixedClock, database_url: str
) -> None:
    account_id = usd_account(dataclasses.replace(container.deps, gateway=FakeGateway()))
    before = load_account(container.app, account_id).version
    barrier = threading.Barrier(2)
    settings = Settings(database_url=database_url, kafka_bootstrap=None, pool_size=2)
    with build(settings, clock=clock) as other:
        clocks = [RendezvousClock(clock, barrier), RendezvousClock(clock, barrier)]
        both = [
            dataclasses.replace(c.deps, clock=k, gateway=FakeGateway())
            for c, k in zip([container, other], clocks, strict=True)
        ]
        amounts = [700, 300]
        errors: list[BaseException] = []

        def grant(d: Deps, amount: int) -> None:
            try:
                cmd = GrantCredit(account_id=account_id, amount=amount, currency="USD")
                credits.grant_credit(d, cmd, support_ctx())
            except BaseException as error:
                errors.append(error)

        threads = [
            threading.Thread(target=grant, args=(d, a)) for d, a in zip(both, amounts, strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == []
        assert sum(k.readings for k in clocks) == 3  # exactly one reran after a conflict
        for app in (container.app, other.app):
            account = load_account(app, account_id)
            assert account.version == before + 2
            assert sorted(c.granted.amount for c in account.credits.values()) == [300, 700]
            assert account.credit_balance.amount == 1000
    granted = [e for e in container.app.events.get(account_id) if isinstance(e, ev.CreditGranted)]
    assert sorted(e.credit.granted.amount for e in granted) == [300, 700]
    assert_journal_matches(container.app, account_id)


def test_many_concurrent_commands_lose_no_update(
    container: Container, clock: FixedClock, database_url: str
) -> None:
    """Both applications keep granting credits on one account at once. The handler's retries
    are bounded, so a grant may be refused with ConcurrencyConflict (nothing recorded); every
    grant that returned is in the stream and in the balance, and nothing else is."""
    account_id = usd_account(dataclasses.replace(container.deps, gateway=FakeGateway()))
    settings = Settings(database_url=database_url, kafka_bootstrap=None, pool_size=2)
    with build(settings, clock=clock) as other:
        per_thread = 10
        done: list[list[int]] = [[], []]
        refused: list[list[int]] = [[], []]
        errors: list[BaseException] = []
        start = threading.Barrier(2)

        def grant_many(d: Deps, slot: int) -> None:
            start.wait(timeout=30)
            for i in range(per_thread):
                amount = (slot + 1) * 1000 + i
                cmd = GrantCredit(account_id=account_id, amount=amount, currency="USD")
                try:
                    credits.grant_credit(d, cmd, support_ctx())
                except ConcurrencyConflict:
                    refused[slot].append(amount)
                except BaseException as error:
                    errors.append(error)
                else:
                    done[slot].append(amount)

        threads = [
            threading.Thread(target=grant_many, args=(c.deps, slot))
            for slot, c in enumerate([container, other])
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []
        assert all(done), "each application got grants through"
        assert len(done[0] + done[1] + refused[0] + refused[1]) == 2 * per_thread
        account = load_account(other.app, account_id)
        recorded = sorted(c.granted.amount for c in account.credits.values())
        assert recorded == sorted(done[0] + done[1])
        assert account.credit_balance.amount == sum(recorded)
    assert_journal_matches(container.app, account_id)
