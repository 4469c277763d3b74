"""Given events / when a command / then events, for the Account aggregate.

`given(*steps)` runs the steps on a fresh account and rebuilds the account from the events
they recorded: every test starts from events alone, with nothing pending, so after the
command under test `account.collect_events()` holds exactly what that command recorded.

Time is explicit: every step and every `meta` takes the moment it happens (`at(days=...)`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from ledger.account import Account
from ledger.journal import JournalEntry, LedgerAccount, totals_by_currency
from ledger.meta import Actor, ActorKind, EventMeta, Surface
from ledger.methods import VaultPath
from ledger.money import Money
from ledger.payments import AttemptPurpose, Processor
from ledger.profile import BillingProfile
from ledger.subscriptions import Plan

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)  # January: a 31-day first period
CURRENCY = "GBP"
PROFILE = BillingProfile("Ada Lovelace", "ada@example.com", "GB", CURRENCY)

BASIC = Plan("basic-monthly", "Basic", 1, Money(1000, CURRENCY))
PRO = Plan("pro-monthly", "Pro", 1, Money(3000, CURRENCY))
PRO_YEARLY = Plan("pro-yearly", "Pro", 12, Money(30000, CURRENCY))
PRO_USD = Plan("pro-monthly-usd", "Pro", 1, Money(3000, "USD"))

Step = Callable[[Account], object]

_SURFACES = {
    ActorKind.CUSTOMER: Surface.DASHBOARD,
    ActorKind.SERVICE: Surface.IAPI,
    ActorKind.SUPPORT: Surface.NINJAPANEL,
    ActorKind.SYSTEM: Surface.SYSTEM,
}


def gbp(amount: int) -> Money:
    return Money(amount, CURRENCY)


def at(days: float = 0, hours: float = 0, seconds: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours, seconds=seconds)


def meta(
    when: datetime = T0, kind: ActorKind = ActorKind.SERVICE, reason: str | None = None
) -> EventMeta:
    return EventMeta(
        actor=Actor(f"{kind.value}-1", kind),
        surface=_SURFACES[kind],
        correlation_id=uuid4(),
        occurred_at=when,
        reason=reason,
    )


def support(when: datetime = T0, reason: str = "customer asked by phone") -> EventMeta:
    return meta(when, ActorKind.SUPPORT, reason)


def customer(when: datetime = T0) -> EventMeta:
    return meta(when, ActorKind.CUSTOMER)


def system(when: datetime = T0) -> EventMeta:
    return meta(when, ActorKind.SYSTEM)


# --- given --------------------------------------------------------------------------------


def history(*steps: Step, profile: BillingProfile = PROFILE) -> list[Any]:
    """The events an account records when opened and then taken through `steps`."""
    account = Account.open(uuid4(), profile, meta())
    for step in steps:
        step(account)
    return list(account.collect_events())


def replayed(events: Iterable[Any]) -> Account:
    account: Any = None
    for event in events:
        account = event.mutate(account)
    assert isinstance(account, Account)
    return account


def given(*steps: Step, profile: BillingProfile = PROFILE) -> Account:
    """An account rebuilt from the events of `steps`, with nothing pending."""
    return replayed(history(*steps, profile=profile))


def card(method_id: str = "card-1", default: bool = False, when: datetime = T0) -> Step:
    return lambda a: a.add_card(
        method_id, f"pm_{method_id}", "visa", "4242", 12, 2030, default, meta(when)
    )


def paypal(
    method_id: str = "pp-1",
    default: bool = False,
    vault_path: VaultPath = VaultPath.BILLING_AGREEMENT,
    when: datetime = T0,
) -> Step:
    agreement = f"B-{method_id}" if vault_path is VaultPath.BILLING_AGREEMENT else None
    return lambda a: a.add_paypal(
        method_id, f"bt_{method_id}", agreement, "ada@example.com", vault_path, default, meta(when)
    )


def subscribed(
    subscription_id: str = "sub-1",
    plan: Plan = PRO,
    invoice_id: str | None = None,
    on_session: bool = False,
    when: datetime = T0,
) -> Step:
    invoice = invoice_id or f"inv-{subscription_id}"
    return lambda a: a.subscribe(subscription_id, plan, invoice, on_session, meta(when))


def attempt(
    attempt_id: str,
    invoice_id: str = "inv-sub-1",
    method_id: str = "card-1",
    purpose: AttemptPurpose = AttemptPurpose.COLLECTION,
    when: datetime = T0,
) -> Step:
    return lambda a: a.start_attempt(attempt_id, invoice_id, method_id, purpose, meta(when))


def succeeded(attempt_id: str, when: datetime = T0) -> Step:
    return lambda a: a.record_success(attempt_id, f"pay_{attempt_id}", meta(when))


def failed(attempt_id: str, decline_code: str = "insufficient_funds", when: datetime = T0) -> Step:
    return lambda a: a.record_failure(attempt_id, decline_code, meta(when))


def paid(
    attempt_id: str,
    invoice_id: str = "inv-sub-1",
    method_id: str = "card-1",
    purpose: AttemptPurpose = AttemptPurpose.COLLECTION,
    when: datetime = T0,
) -> Step:
    """A successful payment of the invoice (an attempt and its success)."""

    def step(account: Account) -> None:
        attempt(attempt_id, invoice_id, method_id, purpose, when)(account)
        succeeded(attempt_id, when)(account)

    return step


def uncollectible(invoice_id: str = "inv-sub-1", when: datetime = T0) -> Step:
    return lambda a: a.mark_uncollectible(invoice_id, system(when))


def credit(
    credit_id: str, amount: int, expires_at: datetime | None = None, when: datetime = T0
) -> Step:
    return lambda a: a.grant_credit(credit_id, gbp(amount), expires_at, support(when))


def out_of_band(invoice_id: str = "inv-sub-1", when: datetime = T0) -> Step:
    return lambda a: a.pay_out_of_band(invoice_id, Processor.BRAINTREE, "bt_txn_1", meta(when))


# --- then ---------------------------------------------------------------------------------


def kinds(events: Sequence[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


def journal_of(event: Any) -> JournalEntry:
    journal = event.journal
    assert isinstance(journal, JournalEntry)
    assert all(total == 0 for total in totals_by_currency(journal.postings).values())
    return journal


def moves(event: Any) -> dict[LedgerAccount, int]:
    """The journal of a money-moving event as {ledger account: net minor units}."""
    result: dict[LedgerAccount, int] = {}
    for posting in journal_of(event).postings:
        result[posting.account] = result.get(posting.account, 0) + posting.amount.amount
    return result


def receivable_effect(event: Any) -> int:
    return journal_of(event).balance_of(LedgerAccount.RECEIVABLE, CURRENCY)


def ledger_balance(events: Iterable[Any], account: LedgerAccount) -> int:
    """The balance of a ledger account over every journal entry in `events`."""
    return sum(journal_of(e).balance_of(account, CURRENCY) for e in events if hasattr(e, "journal"))
