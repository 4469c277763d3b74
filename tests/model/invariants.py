"""What must hold after every command: a balanced journal whose receivable equals what the
invoices owe, no invoice paid twice, bad debt iff something is uncollectible, replay (with or
without a snapshot) equal to the live state, and read models folded event by event equal to
a rebuild from the whole stream (and agreeing with the aggregate)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.postgres.store_reader import StoreReader
from ledger.account import Account
from ledger.events import MoneyMoved
from ledger.invoices import InvoiceStatus
from ledger.journal import LedgerAccount, totals_by_currency
from ledger.payments import AttemptStatus
from projections.base import fold_all
from projections.registry import all_projections
from tests.model.account import AccountModel


class ReadModelFolds:
    """Every projection's fold of one store, applied event by event as the runtime does."""

    def __init__(self, model: AccountModel) -> None:
        self._reader = StoreReader(model.deps.app)
        self._projections = all_projections()
        self.position = 0
        self.envelopes: list[Any] = []
        self.states: dict[str, dict[Any, Any]] = {name: {} for name in self._projections}

    def catch_up(self) -> None:
        while batch := self._reader.read_after(self.position, 1_000):
            self.envelopes.extend(batch)
            for env in batch:
                for name, projection in self._projections.items():
                    states = self.states[name]
                    states[env.account_id] = projection.fold(states.get(env.account_id), env)
            self.position = batch[-1].position

    def rebuild(self) -> dict[str, dict[Any, Any]]:
        """Every fold again from the first event, as `ledger projections rebuild` does."""
        return {name: fold_all(p, self.envelopes) for name, p in self._projections.items()}


def journal_balances_and_receivable_is_owed(model: AccountModel) -> None:
    entries = [e.journal for e in model.events() if isinstance(e, MoneyMoved)]
    for entry in entries:
        assert all(total == 0 for total in totals_by_currency(entry.postings).values())

    def posted(ledger_account: LedgerAccount) -> int:
        return sum(
            p.amount.amount for e in entries for p in e.postings if p.account is ledger_account
        )

    account = model.account()
    owed = sum(i.outstanding.amount for i in account.invoices.values())
    assert posted(LedgerAccount.RECEIVABLE) == owed == account.receivable.amount
    assert -posted(LedgerAccount.CUSTOMER_CREDIT) == account.credit_balance.amount


def no_invoice_is_paid_twice(model: AccountModel) -> None:
    account = model.account()
    for invoice in account.invoices.values():
        attempts = [a for a in account.attempts.values() if a.invoice_id == invoice.invoice_id]
        paid = [a for a in attempts if a.status is AttemptStatus.SUCCEEDED]
        assert len(paid) <= 1
        if paid:
            assert invoice.status is InvoiceStatus.PAID
        assert len([a for a in attempts if a.in_flight]) <= 1


def bad_debt_iff_something_is_uncollectible(model: AccountModel) -> None:
    account = model.account()
    uncollectible = any(i.status is InvoiceStatus.UNCOLLECTIBLE for i in account.invoices.values())
    assert account.bad_debt == uncollectible


def replay_equals_live_state(model: AccountModel) -> None:
    live = model.account()
    replayed: Any = None
    for event in model.events():
        replayed = event.mutate(replayed)
    assert replayed.__dict__ == live.__dict__
    assert snapshot_round_trip(model, live).__dict__ == live.__dict__
    # As an uncached process loads it: the last stored snapshot and the events after it
    # (the model's app caches its account; a load at a version bypasses the cache).
    stored: Account = model.deps.app.repository.get(model.account_id, version=live.version)
    assert stored.__dict__ == live.__dict__


def snapshot_round_trip(model: AccountModel, live: Account) -> Account:
    """A snapshot of `live` as the app takes it, encoded and decoded as the store keeps it,
    then restored. Not put in the store: a snapshot at every version would make every
    later load decode the whole state, which the app's own interval never does."""
    mapper = model.deps.app.mapper
    snapshot: Any = mapper.to_domain_event(mapper.to_stored_event(Account.Snapshot.take(live)))
    restored = snapshot.mutate(None)
    assert isinstance(restored, Account)
    return restored


def read_models_agree_with_the_account(model: AccountModel, folds: ReadModelFolds) -> None:
    """The read models, folded event by event up to the store's head, say what the
    aggregate says: status and version, each invoice's status, what is owed."""
    folds.catch_up()
    account = model.account()
    row = folds.states["accounts"][model.account_id]
    assert (row.status, row.version) == (account.status.value, account.version)
    invoices = folds.states["invoices"][model.account_id]
    assert {i: r.status for i, r in invoices.invoices.items()} == {
        i: inv.status.value for i, inv in account.invoices.items()
    }
    health = folds.states["health"][model.account_id]
    assert health.outstanding + health.uncollectible == account.receivable.amount


def read_models_equal_a_rebuild(model: AccountModel, folds: ReadModelFolds) -> None:
    read_models_agree_with_the_account(model, folds)
    assert folds.states == folds.rebuild()


Invariant = Callable[[AccountModel], None]
FoldCheck = Callable[[AccountModel, ReadModelFolds], None]
# Cheap enough to check after every operation of a long run (O(state), or one pass over
# the journal entries) ...
INVARIANTS: tuple[Invariant, ...] = (
    journal_balances_and_receivable_is_owed,
    no_invoice_is_paid_twice,
    bad_debt_iff_something_is_uncollectible,
)
FOLD_CHECKS: tuple[FoldCheck, ...] = (read_models_agree_with_the_account,)
# ... and those that replay or rebuild the whole stream (O(events) each time).
DEEP_INVARIANTS: tuple[Invariant, ...] = (replay_equals_live_state,)
DEEP_FOLD_CHECKS: tuple[FoldCheck, ...] = (read_models_equal_a_rebuild,)
