"""Invoices, as Stripe models them: draft -> open -> paid | uncollectible | void;
uncollectible -> paid (bad debt recovered) | void (written off); paid and void are final.

Each transition keeps its own timestamp, and the status shown to people is derived from the
whole history, so a recovered bad debt can never render as a doubled "Paid".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from ledger.errors import DomainError, ErrorKind
from ledger.money import Money
from ledger.values import Immutable


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    UNCOLLECTIBLE = "uncollectible"
    VOID = "void"


class DisplayStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PAST_DUE = "past_due"
    PAID = "paid"
    UNCOLLECTIBLE = "uncollectible"
    RECOVERED = "recovered"  # was uncollectible, then paid: shown with both dates
    VOID = "void"
    WRITTEN_OFF = "written_off"  # was uncollectible, then voided


class InvalidTransition(DomainError):
    """The invoice cannot make this transition from its current status."""

    code = "invalid_invoice_transition"
    kind = ErrorKind.REFUSED


class InvoiceNotFound(DomainError):
    """No such invoice on this account."""

    code = "invoice_not_found"
    kind = ErrorKind.NOT_FOUND


class EmptyInvoice(DomainError):
    """An invoice needs at least one line item."""

    code = "empty_invoice"
    kind = ErrorKind.INVALID


_ALLOWED = {
    InvoiceStatus.DRAFT: {InvoiceStatus.OPEN, InvoiceStatus.VOID},
    InvoiceStatus.OPEN: {InvoiceStatus.PAID, InvoiceStatus.UNCOLLECTIBLE, InvoiceStatus.VOID},
    InvoiceStatus.UNCOLLECTIBLE: {InvoiceStatus.PAID, InvoiceStatus.VOID},
    InvoiceStatus.PAID: set(),
    InvoiceStatus.VOID: set(),
}


@dataclass(frozen=True)
class LineItem(Immutable):
    description: str
    amount: Money  # may be negative: a proration credit line
    subscription_id: str | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None


@dataclass(frozen=True)
class Invoice(Immutable):
    invoice_id: str
    currency: str
    lines: tuple[LineItem, ...]
    created_at: datetime
    status: InvoiceStatus = InvoiceStatus.DRAFT
    number: str | None = None
    credit_applied: Money | None = None
    due_at: datetime | None = None
    finalized_at: datetime | None = None
    paid_at: datetime | None = None
    marked_uncollectible_at: datetime | None = None
    voided_at: datetime | None = None
    paid_out_of_band: bool = False
    credits_used: dict[str, int] | None = None  # credit id -> minor units, set at finalization
    on_session_change: str | None = None  # what an on-session payment failure rolls back

    def __deepcopy__(self, memo: dict[int, Any]) -> Invoice:
        """Itself, but for `credits_used`: a dict (as snapshots store it), copied."""
        if self.credits_used is None:
            return self
        return replace(self, credits_used=dict(self.credits_used))

    @property
    def total(self) -> Money:
        total = Money.zero(self.currency)
        for line in self.lines:
            total = total + line.amount
        return total

    @property
    def amount_due(self) -> Money:
        """What the customer owes after credits; frozen at finalization."""
        return self.total - (self.credit_applied or Money.zero(self.currency))

    @property
    def outstanding(self) -> Money:
        """What is still receivable: open and uncollectible invoices owe their amount due."""
        if self.status in (InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE):
            return self.amount_due
        return Money.zero(self.currency)

    def _to(self, status: InvoiceStatus, **changes: object) -> Invoice:
        if status not in _ALLOWED[self.status]:
            raise InvalidTransition(f"{self.status} -> {status}")
        return replace(self, status=status, **changes)  # type: ignore[arg-type]

    def finalized(
        self, number: str, at: datetime, due_at: datetime | None, credits_used: dict[str, int]
    ) -> Invoice:
        if not self.lines:
            raise EmptyInvoice()
        return self._to(
            InvoiceStatus.OPEN,
            number=number,
            finalized_at=at,
            due_at=due_at,
            credit_applied=Money(sum(credits_used.values()), self.currency),
            credits_used=dict(credits_used),
        )

    def paid(self, at: datetime, out_of_band: bool = False) -> Invoice:
        return self._to(InvoiceStatus.PAID, paid_at=at, paid_out_of_band=out_of_band)

    def marked_uncollectible(self, at: datetime) -> Invoice:
        return self._to(InvoiceStatus.UNCOLLECTIBLE, marked_uncollectible_at=at)

    def voided(self, at: datetime) -> Invoice:
        return self._to(InvoiceStatus.VOID, voided_at=at)


def display_status(invoice: Invoice, now: datetime) -> DisplayStatus:
    """What a person sees, from the whole history, not the last transition alone."""
    status, was_bad_debt = invoice.status, invoice.marked_uncollectible_at is not None
    if status is InvoiceStatus.PAID:
        return DisplayStatus.RECOVERED if was_bad_debt else DisplayStatus.PAID
    if status is InvoiceStatus.VOID:
        return DisplayStatus.WRITTEN_OFF if was_bad_debt else DisplayStatus.VOID
    if status is InvoiceStatus.OPEN:
        overdue = invoice.due_at is not None and now > invoice.due_at
        return DisplayStatus.PAST_DUE if overdue else DisplayStatus.OPEN
    return DisplayStatus(status.value)


def invoice_number(account_prefix: str, sequence: int) -> str:
    """Gap-free per account: only finalization takes the next number."""
    return f"{account_prefix}-{sequence:04d}"
