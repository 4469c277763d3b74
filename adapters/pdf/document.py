"""What an invoice document says, before any layout: who sells, who was billed (as they were
when the invoice was issued), the one sentence of its state, the amount that matters in that
state, and the payments in the reader's copy.

The customer's copy lists payments and refunds (amount, date, method in words); support's
copy lists every attempt with its processor and decline code, and the status history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from ledger.invoices import DisplayStatus
from ledger.money import Money
from queries.account_detail import MethodView
from queries.invoices import InvoiceDetail

_BRANDS = {"amex": "American Express", "mastercard": "Mastercard", "diners": "Diners Club"}


class Copy(StrEnum):
    CUSTOMER = "customer"
    SUPPORT = "support"


@dataclass(frozen=True)
class Seller:
    legal_name: str
    address: tuple[str, ...]
    tax_id: str


@dataclass(frozen=True)
class BilledTo:
    name: str
    email: str
    country: str
    tax_id: str | None


@dataclass(frozen=True)
class Amount:
    label: str
    text: str


@dataclass(frozen=True)
class Entry:
    """One line of the payments section: when, what, how much, and how or why."""

    at: str
    what: str
    amount: str
    note: str


@dataclass(frozen=True)
class InvoiceDocument:
    invoice: InvoiceDetail
    seller: Seller
    billed_to: BilledTo
    methods: Mapping[str, MethodView]
    copy: Copy


def document_text(doc: InvoiceDocument) -> str:
    """The text the document takes from people (names, addresses, item descriptions); the
    rest is the ledger's own ASCII."""
    seller, billed = doc.seller, doc.billed_to
    parts = [seller.legal_name, *seller.address, seller.tax_id, billed.name, billed.email]
    parts += [str(line["description"]) for line in doc.invoice.lines]
    return "".join(parts)


def format_money(amount: int, currency: str) -> str:
    """Minor units as the currency writes them: 123456 USD -> '1,234.56 USD'."""
    return f"{Money(amount, currency).decimal_text(grouping=True)} {currency}"


def day(at: datetime | str | None) -> str:
    if at is None:
        return "-"
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return f"{moment:%Y-%m-%d}"


def moment(at: datetime | str | None) -> str:
    if at is None:
        return "-"
    when = datetime.fromisoformat(at) if isinstance(at, str) else at
    return f"{when:%Y-%m-%d %H:%M} UTC"


def method_words(method: MethodView | None) -> str:
    """'Visa ending 4242', 'PayPal payer@example.com', or 'a payment method' if unknown."""
    if method is None:
        return "a payment method"
    if method.kind == "paypal":
        return f"PayPal {method.payer_email}" if method.payer_email else "PayPal"
    brand = method.brand or "card"
    name = _BRANDS.get(brand.lower(), brand.title())
    return f"{name} ending {method.last4}" if method.last4 else name


def _succeeded(invoice: InvoiceDetail) -> list[dict[str, Any]]:
    return [a for a in invoice.attempts if a["status"] == "succeeded"]


def paid_with(doc: InvoiceDocument) -> str:
    """How the invoice was paid, in words."""
    paid = _succeeded(doc.invoice)
    if paid:
        return method_words(doc.methods.get(paid[-1]["method_id"]))
    if doc.invoice.amount_due == 0:
        return "account credit"
    return "a payment outside card and PayPal"


def amount_paid(invoice: InvoiceDetail) -> int:
    paid = _succeeded(invoice)
    return sum(int(a["amount"]) for a in paid) if paid else invoice.amount_due


def state_line(doc: InvoiceDocument) -> str:
    """The document's one statement of where the invoice stands."""
    inv, status = doc.invoice, doc.invoice.display_status
    since = day(inv.marked_uncollectible_at)
    owed = format_money(inv.amount_due, inv.currency)
    lines = {
        DisplayStatus.PAID: f"Paid on {day(inv.paid_at)} with {paid_with(doc)}",
        DisplayStatus.RECOVERED: f"Paid on {day(inv.paid_at)} (was uncollectible since {since})",
        DisplayStatus.OPEN: f"{owed} due by {day(inv.due_at)}" if inv.due_at else f"{owed} due now",
        DisplayStatus.PAST_DUE: f"Past due: {owed} was due on {day(inv.due_at)}",
        DisplayStatus.UNCOLLECTIBLE: f"Uncollectible since {since}: {owed} outstanding",
        DisplayStatus.VOID: f"Void since {day(inv.voided_at)}: nothing is due",
        DisplayStatus.WRITTEN_OFF: f"Void since {day(inv.voided_at)} (was uncollectible since"
        f" {since}): nothing is due",
        DisplayStatus.DRAFT: "Draft: not issued",
    }
    return lines[status]


def headline_amount(doc: InvoiceDocument) -> Amount:
    """The amount the reader looks for: what was paid, what is due or outstanding, or none."""
    inv, status = doc.invoice, doc.invoice.display_status
    if status in (DisplayStatus.PAID, DisplayStatus.RECOVERED):
        return Amount("Amount paid", format_money(amount_paid(inv), inv.currency))
    if status is DisplayStatus.UNCOLLECTIBLE:
        return Amount("Amount outstanding", format_money(inv.amount_due, inv.currency))
    if status in (DisplayStatus.VOID, DisplayStatus.WRITTEN_OFF):
        return Amount("Amount due", f"{format_money(0, inv.currency)} (void)")
    return Amount("Amount due", format_money(inv.amount_due, inv.currency))


def customer_entries(doc: InvoiceDocument) -> list[Entry]:
    """Payments and refunds, as the customer's bank statement would show them."""
    inv, entries = doc.invoice, []
    for attempt in inv.attempts:
        how = method_words(doc.methods.get(attempt["method_id"]))
        money = format_money(int(attempt["amount"]), inv.currency)
        if attempt["status"] == "succeeded":
            entries.append(Entry(day(attempt["settled_at"]), "Payment", money, how))
        if attempt["status"] == "requires_action":
            entries.append(Entry(day(attempt["started_at"]), "Awaiting your approval", money, how))
        for refund in attempt.get("refunds", []):
            back = format_money(-int(refund["amount"]), inv.currency)
            entries.append(Entry(day(refund["at"]), "Refund", back, f"to {how}"))
        if attempt.get("dispute"):
            entries.append(_dispute(attempt["dispute"], inv.currency, how))
    return entries


def support_entries(doc: InvoiceDocument) -> list[Entry]:
    """Every attempt, failed ones with their decline code, and what followed each."""
    inv, entries = doc.invoice, []
    for attempt in inv.attempts:
        how = f"{attempt['processor']}, {method_words(doc.methods.get(attempt['method_id']))}"
        outcome = attempt["status"]
        if attempt.get("decline_code"):
            outcome += f" ({attempt['decline_code']})"
        money = format_money(int(attempt["amount"]), inv.currency)
        entries.append(Entry(moment(attempt["started_at"]), f"Attempt: {outcome}", money, how))
        for refund in attempt.get("refunds", []):
            back = format_money(-int(refund["amount"]), inv.currency)
            entries.append(Entry(moment(refund["at"]), "Refund", back, how))
        if attempt.get("dispute"):
            entries.append(_dispute(attempt["dispute"], inv.currency, how))
    return entries


def _dispute(dispute: dict[str, Any], currency: str, how: str) -> Entry:
    status = dispute.get("status", "").replace("_", " ")
    money = format_money(int(dispute["amount"]), currency)
    return Entry(day(dispute.get("opened_at")), f"Disputed ({status})", money, how)
