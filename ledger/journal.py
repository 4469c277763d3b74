"""Double-entry journal: every money movement is an entry of postings that balance to zero
per currency. Debits are positive, credits negative. Entries are recorded on the events that
cause them and never edited; a correction is a new entry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ledger.errors import DomainError, ErrorKind
from ledger.money import Money
from ledger.values import Immutable


class LedgerAccount(StrEnum):
    RECEIVABLE = "receivable"  # asset: what customers owe on finalized invoices
    CASH_STRIPE = "cash:stripe"  # asset: settled through Stripe
    CASH_BRAINTREE = "cash:braintree"  # asset: settled through Braintree (PayPal)
    DISPUTED_FUNDS = "disputed_funds"  # asset: withdrawn by the processor pending a dispute
    REVENUE = "revenue"  # income: invoiced
    CUSTOMER_CREDIT = "customer_credit"  # liability: credit the customer can still use
    CREDITS_GRANTED = "credits_granted"  # contra-income: credit given away
    REFUNDS = "refunds"  # contra-income: money returned
    BAD_DEBT_EXPENSE = "bad_debt_expense"  # expense: receivable written off
    DISPUTE_LOSSES = "dispute_losses"  # expense: disputes lost


class UnbalancedEntry(DomainError):
    """A journal entry must balance to zero in every currency."""

    code = "unbalanced_entry"
    kind = ErrorKind.INVALID


@dataclass(frozen=True)
class Posting(Immutable):
    account: LedgerAccount
    amount: Money  # debit > 0, credit < 0


@dataclass(frozen=True)
class JournalEntry(Immutable):
    postings: tuple[Posting, ...]

    def __post_init__(self) -> None:
        for currency, total in totals_by_currency(self.postings).items():
            if total:
                raise UnbalancedEntry(f"{currency} postings sum to {total}")

    @classmethod
    def of(cls, *moves: tuple[LedgerAccount, LedgerAccount, Money]) -> JournalEntry:
        """Entries from (debit account, credit account, amount) moves; zero moves vanish."""
        postings: list[Posting] = []
        for debit, credit, amount in moves:
            if amount.amount:
                postings += [Posting(debit, amount), Posting(credit, -amount)]
        return cls(tuple(postings))

    def balance_of(self, account: LedgerAccount, currency: str) -> int:
        return sum(
            p.amount.amount
            for p in self.postings
            if p.account is account and p.amount.currency == currency
        )

    def as_list(self) -> list[dict[str, Any]]:
        return [
            {"account": p.account.value, "amount": p.amount.amount, "currency": p.amount.currency}
            for p in self.postings
        ]

    @classmethod
    def from_list(cls, rows: Iterable[dict[str, Any]]) -> JournalEntry:
        return cls(
            tuple(
                Posting(LedgerAccount(r["account"]), Money(r["amount"], r["currency"]))
                for r in rows
            )
        )


def totals_by_currency(postings: Iterable[Posting]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for p in postings:
        totals[p.amount.currency] = totals.get(p.amount.currency, 0) + p.amount.amount
    return totals
