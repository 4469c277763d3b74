"""Customer credit on the Account: granted and revoked by support, applied at finalization
(soonest expiring first), expiring, and given back when an invoice is voided."""

import pytest

from ledger import events as ev
from ledger.account import Account
from ledger.credits import CreditNotActive, CreditNotFound, CreditStatus
from ledger.errors import AccountClosed, NothingToChange, ReasonRequired, SupportOnly
from ledger.invoices import InvoiceStatus
from ledger.journal import LedgerAccount as L
from ledger.meta import ActorKind
from ledger.money import MAX_AMOUNT, CurrencyMismatch, InvalidAmount, Money
from ledger.subscriptions import Plan
from tests.unit.given import (
    BASIC,
    PRO,
    at,
    card,
    credit,
    customer,
    gbp,
    given,
    history,
    kinds,
    ledger_balance,
    meta,
    moves,
    paid,
    receivable_effect,
    replayed,
    subscribed,
    support,
    system,
)

# --- granting -------------------------------------------------------------------------------


def test_support_grants_credit_with_a_reason() -> None:
    account = given()
    account.grant_credit("cr-1", gbp(1500), at(days=90), support(reason="goodwill"))
    [event] = account.collect_events()
    assert isinstance(event, ev.CreditGranted)
    assert (event.credit.granted, event.credit.remaining, event.credit.expires_at) == (
        gbp(1500),
        1500,
        at(days=90),
    )
    assert event.meta.reason == "goodwill"
    assert account.credit_balance == gbp(1500)


def test_granting_credit_books_a_liability_to_the_customer() -> None:
    account = given()
    account.grant_credit("cr-1", gbp(1500), None, support())
    [event] = account.collect_events()
    assert moves(event) == {L.CREDITS_GRANTED: 1500, L.CUSTOMER_CREDIT: -1500}
    assert receivable_effect(event) == 0


@pytest.mark.parametrize("kind", [ActorKind.CUSTOMER, ActorKind.SERVICE, ActorKind.SYSTEM])
def test_only_support_grants_credit(kind: ActorKind) -> None:
    account = given()
    with pytest.raises(SupportOnly):
        account.grant_credit("cr-1", gbp(1500), None, meta(kind=kind))
    assert account.collect_events() == []


def test_support_cannot_act_without_a_reason() -> None:
    with pytest.raises(ReasonRequired):
        support(reason=" ")


def test_a_credit_id_is_granted_once() -> None:
    account = given(credit("cr-1", 500))
    with pytest.raises(NothingToChange):
        account.grant_credit("cr-1", gbp(700), None, support())
    assert account.collect_events() == []


def test_a_credit_in_another_currency_is_refused() -> None:
    account = given()
    with pytest.raises(CurrencyMismatch):
        account.grant_credit("cr-1", Money(500, "USD"), None, support())
    assert account.collect_events() == []


@pytest.mark.parametrize("amount", [0, -500, MAX_AMOUNT + 1, 2**62])
def test_a_credit_is_one_positive_amount_a_processor_could_move(amount: int) -> None:
    account = given()
    with pytest.raises(InvalidAmount):
        account.grant_credit("cr-1", gbp(amount), None, support())
    assert account.collect_events() == []


def test_the_largest_credit_is_the_processors_limit() -> None:
    account = given()
    account.grant_credit("cr-1", gbp(MAX_AMOUNT), None, support())
    assert account.credit_balance == gbp(99_999_999)


def test_an_old_credit_above_the_limit_still_replays_and_can_be_revoked() -> None:
    def old_grant(account: Account) -> None:  # recorded before the limit existed
        account._grant_credit("cr-old", gbp(2**63), None, support())

    account = replayed(history(old_grant))
    assert account.credit_balance == gbp(2**63)
    account.revoke_credit("cr-old", support(reason="never a real credit"))
    assert account.credit_balance == gbp(0)


def test_a_plan_priced_above_the_processors_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="price"):
        Plan("huge", "Huge", 1, gbp(MAX_AMOUNT + 1))


def test_a_closed_account_is_granted_no_credit() -> None:
    account = given(lambda a: a.close(meta()))
    with pytest.raises(AccountClosed):
        account.grant_credit("cr-1", gbp(500), None, support())
    assert account.collect_events() == []


# --- applying at finalization -----------------------------------------------------------------


def test_credit_is_applied_when_the_invoice_is_finalized() -> None:
    account = given(card(), credit("cr-1", 1200))
    account.subscribe("sub-1", PRO, "inv-1", False, customer())
    finalized = account.collect_events()[-1]
    assert isinstance(finalized, ev.InvoiceFinalized)
    assert finalized.credits_used == {"cr-1": 1200}
    invoice = account.invoices["inv-1"]
    assert (invoice.total, invoice.credit_applied, invoice.amount_due) == (
        gbp(3000),
        gbp(1200),
        gbp(1800),
    )


def test_applied_credit_reduces_what_is_receivable() -> None:
    account = given(card(), credit("cr-1", 1200))
    account.subscribe("sub-1", PRO, "inv-1", False, customer())
    finalized = account.collect_events()[-1]
    assert moves(finalized) == {L.RECEIVABLE: 1800, L.REVENUE: -3000, L.CUSTOMER_CREDIT: 1200}
    assert account.receivable == gbp(1800)
    assert account.credit_balance == gbp(0)


def test_the_soonest_expiring_credit_is_used_first() -> None:
    account = given(
        card(),
        credit("never", 2000),
        credit("late", 2000, expires_at=at(days=60)),
        credit("soon", 2000, expires_at=at(days=30)),
    )
    account.subscribe("sub-1", PRO, "inv-1", False, customer())
    assert account.invoices["inv-1"].credits_used == {"soon": 2000, "late": 1000}


def test_credit_that_never_expires_is_used_last() -> None:
    account = given(
        card(),
        credit("never", 2000),
        credit("late", 2000, expires_at=at(days=60)),
    )
    account.subscribe("sub-1", PRO, "inv-1", False, customer())
    assert account.invoices["inv-1"].credits_used == {"late": 2000, "never": 1000}


def test_among_credits_expiring_together_the_oldest_is_used_first() -> None:
    account = given(
        card(),
        credit("newer", 2000, expires_at=at(days=30), when=at(days=-1)),
        credit("older", 2000, expires_at=at(days=30), when=at(days=-5)),
    )
    account.subscribe("sub-1", PRO, "inv-1", False, customer())
    assert account.invoices["inv-1"].credits_used == {"older": 2000, "newer": 1000}


def test_credit_past_its_expiry_is_not_applied_even_before_it_is_closed() -> None:
    account = given(card(), credit("cr-1", 1000, expires_at=at(days=10)))
    account.subscribe("sub-1", PRO, "inv-1", False, customer(at(days=10)))
    assert account.invoices["inv-1"].credits_used == {}


def test_what_is_left_of_a_credit_stays_for_the_next_invoice() -> None:
    account = given(card(), credit("cr-1", 5000), subscribed("sub-1", plan=BASIC))
    assert account.credit_balance == gbp(4000)
    account.subscribe("sub-2", PRO, "inv-2", False, customer())
    assert account.invoices["inv-2"].credits_used == {"cr-1": 3000}
    assert account.credit_balance == gbp(1000)


def test_an_invoice_wholly_covered_by_credit_is_paid_with_nothing_to_collect() -> None:
    account = given(card(), credit("cr-1", 5000))
    account.subscribe("sub-1", PRO, "inv-1", False, customer())
    assert kinds(account.collect_events())[-1] == "InvoiceCoveredByCredit"
    invoice = account.invoices["inv-1"]
    assert (invoice.status, invoice.amount_due) == (InvoiceStatus.PAID, gbp(0))
    assert account.receivable == gbp(0)


def test_a_downgrade_credit_is_used_by_the_next_renewal() -> None:
    account = given(
        card(),
        subscribed(plan=PRO),
        paid("att-1"),
        lambda a: a.change_plan("sub-1", PRO, BASIC, "chg-1", customer(at(days=15.5))),
    )
    account.renew("sub-1", BASIC, "inv-r", system(at(days=31)))
    invoice = account.invoices["inv-r"]
    assert invoice.credits_used == {"chg-1-credit": 1000}
    assert invoice.status is InvoiceStatus.PAID


# --- revoking and expiring ----------------------------------------------------------------------


def test_support_revokes_a_credit_and_takes_back_what_is_left() -> None:
    account = given(card(), credit("cr-1", 5000), subscribed(plan=BASIC))
    account.revoke_credit("cr-1", support(reason="granted by mistake"))
    [event] = account.collect_events()
    assert isinstance(event, ev.CreditClosed)
    assert event.status is CreditStatus.REVOKED
    assert moves(event) == {L.CUSTOMER_CREDIT: 4000, L.CREDITS_GRANTED: -4000}
    assert account.credit_balance == gbp(0)


@pytest.mark.parametrize("kind", [ActorKind.CUSTOMER, ActorKind.SERVICE, ActorKind.SYSTEM])
def test_only_support_revokes_credit(kind: ActorKind) -> None:
    account = given(credit("cr-1", 500))
    with pytest.raises(SupportOnly):
        account.revoke_credit("cr-1", meta(kind=kind))
    assert account.collect_events() == []


def test_a_revoked_credit_cannot_be_revoked_again() -> None:
    account = given(credit("cr-1", 500), lambda a: a.revoke_credit("cr-1", support()))
    with pytest.raises(CreditNotActive):
        account.revoke_credit("cr-1", support())
    assert account.collect_events() == []


def test_revoking_an_unknown_credit_is_refused() -> None:
    account = given()
    with pytest.raises(CreditNotFound):
        account.revoke_credit("cr-9", support())
    assert account.collect_events() == []


def test_credits_past_their_expiry_are_closed_as_expired() -> None:
    account = given(
        credit("soon", 500, expires_at=at(days=10)),
        credit("late", 700, expires_at=at(days=20)),
        credit("never", 900),
    )
    expired = account.expire_credits(system(at(days=10)))
    [event] = account.collect_events()
    assert expired == ["soon"]
    assert isinstance(event, ev.CreditClosed)
    assert event.status is CreditStatus.EXPIRED
    assert moves(event) == {L.CUSTOMER_CREDIT: 500, L.CREDITS_GRANTED: -500}
    assert account.credit_balance == gbp(1600)


def test_expiring_when_nothing_is_due_records_nothing() -> None:
    account = given(credit("cr-1", 500, expires_at=at(days=10)))
    assert account.expire_credits(system(at(days=9))) == []
    assert account.collect_events() == []


def test_a_revoked_credit_does_not_expire_again() -> None:
    account = given(
        credit("cr-1", 500, expires_at=at(days=10)), lambda a: a.revoke_credit("cr-1", support())
    )
    assert account.expire_credits(system(at(days=11))) == []
    assert account.collect_events() == []


# --- voiding gives credit back ------------------------------------------------------------------


def test_voiding_an_invoice_gives_back_the_credit_it_used() -> None:
    account = given(card(), credit("cr-1", 1000), subscribed())
    account.void_invoice("inv-sub-1", meta())
    [event] = account.collect_events()
    assert isinstance(event, ev.InvoiceVoided)
    assert event.credits_restored == {"cr-1": 1000}
    assert moves(event) == {L.REVENUE: 3000, L.RECEIVABLE: -2000, L.CUSTOMER_CREDIT: -1000}
    assert account.credit_balance == gbp(1000)
    assert account.receivable == gbp(0)


def test_voiding_gives_nothing_back_to_a_credit_revoked_since() -> None:
    account = given(
        card(),
        credit("cr-1", 1000),
        subscribed(),
        lambda a: a.revoke_credit("cr-1", support()),
    )
    account.void_invoice("inv-sub-1", meta())
    [event] = account.collect_events()
    assert isinstance(event, ev.InvoiceVoided)
    assert event.credits_restored == {}
    assert moves(event) == {L.REVENUE: 3000, L.RECEIVABLE: -2000, L.CREDITS_GRANTED: -1000}
    assert account.credit_balance == gbp(0)


@pytest.mark.parametrize("revoke_before_void", [False, True])
def test_the_journal_agrees_with_the_credit_balance_and_the_receivable(
    revoke_before_void: bool,
) -> None:
    revoke = [lambda a: a.revoke_credit("cr-2", support())] if revoke_before_void else []
    events = history(
        card(),
        credit("cr-1", 800, expires_at=at(days=5)),
        credit("cr-2", 1500),
        subscribed("sub-1"),
        subscribed("sub-2", plan=BASIC),
        *revoke,
        lambda a: a.void_invoice("inv-sub-1", meta(at(days=1))),
        lambda a: a.expire_credits(system(at(days=6))),
    )
    account = replayed(events)
    assert -ledger_balance(events, L.CUSTOMER_CREDIT) == account.credit_balance.amount
    assert ledger_balance(events, L.RECEIVABLE) == account.receivable.amount
