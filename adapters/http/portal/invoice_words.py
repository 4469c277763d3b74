"""An invoice in a customer's words, for the billing pages: one sentence for where it stands
(a recovered invoice says "Paid on X (was uncollectible since Y)", once, never "Paid /
Paid"; an open one its amount due and by when), the filter names, and what was paid or
refunded, without the internal retries and their decline codes (support's view keeps
those). Dates are days in UTC, amounts as the currency writes them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ledger.invoices import DisplayStatus
from ledger.money import Money
from queries.invoices import InvoiceDetail, InvoiceSummary

# The filters a customer can choose, in the order offered (a draft is never shown to them).
FILTER_NAMES: dict[DisplayStatus, str] = {
    DisplayStatus.OPEN: "Open",
    DisplayStatus.PAST_DUE: "Past due",
    DisplayStatus.UNCOLLECTIBLE: "Unpaid (uncollectible)",
    DisplayStatus.PAID: "Paid",
    DisplayStatus.RECOVERED: "Paid after being uncollectible",
    DisplayStatus.VOID: "Void",
    DisplayStatus.WRITTEN_OFF: "Written off",
}
_PROCESSOR_WAY = {"stripe": "by card", "braintree": "with PayPal"}


def day(moment: datetime | None) -> str:
    """4 December 2026 (the day in UTC); a dash for no date."""
    if moment is None:
        return "\u2014"
    at = moment.astimezone(UTC)
    return f"{at.day} {at:%B %Y}"


def amount(minor: int, currency: str) -> str:
    """123456 USD -> 1,234.56 USD; 2500 JPY -> 2,500 JPY."""
    return f"{Money(minor, currency).decimal_text(grouping=True)} {currency}"


def standing(invoice: InvoiceSummary) -> str:
    """Where the invoice stands, in one sentence that gives every date it needs."""
    due = amount(invoice.amount_due, invoice.currency)
    status = invoice.display_status
    if status is DisplayStatus.PAID:
        return f"Paid on {day(invoice.paid_at)}"
    if status is DisplayStatus.RECOVERED:
        return (
            f"Paid on {day(invoice.paid_at)}"
            f" (was uncollectible since {day(invoice.marked_uncollectible_at)})"
        )
    if status is DisplayStatus.OPEN:
        by = f"by {day(invoice.due_at)}" if invoice.due_at else "now"
        return f"Amount due {due}, {by}"
    if status is DisplayStatus.PAST_DUE:
        return f"Past due: {due} was due by {day(invoice.due_at)}"
    if status is DisplayStatus.UNCOLLECTIBLE:
        return f"Unpaid: {due}, uncollectible since {day(invoice.marked_uncollectible_at)}"
    if status is DisplayStatus.WRITTEN_OFF:
        return f"Written off on {day(invoice.voided_at)}: nothing is due"
    if status is DisplayStatus.VOID:
        return f"Void since {day(invoice.voided_at)}: nothing is due"
    return "Draft: not issued yet"


def lines(invoice: InvoiceDetail) -> list[tuple[str, str, str]]:
    """Each line as (description, period, amount): a proration credit is negative."""
    rows = []
    for line in invoice.lines:
        start, end = _at(line.get("period_start")), _at(line.get("period_end"))
        period = f"{day(start)} to {day(end)}" if start and end else ""
        money = line["amount"]
        rows.append((line["description"], period, amount(int(money["amount"]), money["currency"])))
    return rows


def owes(invoice: InvoiceSummary) -> bool:
    """Whether the customer owes this invoice's amount due now."""
    return invoice.display_status in (
        DisplayStatus.OPEN,
        DisplayStatus.PAST_DUE,
        DisplayStatus.UNCOLLECTIBLE,
    )


def payments(invoice: InvoiceDetail) -> list[str]:
    """What was paid and refunded on the invoice, oldest first: each payment that went
    through (and its refunds and dispute), one waiting for the customer or in progress,
    never a declined retry; an invoice paid with no payment here was paid by other means."""
    said: list[str] = []
    if invoice.credit_applied > 0:
        said.append(f"Your credit paid {amount(invoice.credit_applied, invoice.currency)}")
    for attempt in invoice.attempts:
        said.extend(_attempt_words(attempt, invoice.currency))
    paid = invoice.display_status in (DisplayStatus.PAID, DisplayStatus.RECOVERED)
    if paid and invoice.amount_due > 0 and not _any_payment(invoice):
        money = amount(invoice.amount_due, invoice.currency)
        said.append(f"Paid {money} by other means on {day(invoice.paid_at)}")
    return said


def _any_payment(invoice: InvoiceDetail) -> bool:
    return any(a["status"] == "succeeded" for a in invoice.attempts)


def _attempt_words(attempt: dict[str, Any], currency: str) -> list[str]:
    money = amount(attempt["amount"], currency)
    way = _PROCESSOR_WAY.get(attempt["processor"], "")
    status = attempt["status"]
    if status == "requires_action":
        return [f"A payment of {money} {way} is waiting for you to authenticate it"]
    if status == "pending":
        return [f"A payment of {money} {way} is being processed"]
    if status != "succeeded":
        return []
    said = [f"Paid {money} {way} on {day(_at(attempt['settled_at']))}"]
    for refund in attempt.get("refunds") or []:
        said.append(f"Refunded {amount(refund['amount'], currency)} on {day(_at(refund['at']))}")
    dispute = attempt.get("dispute")
    if dispute:
        said.append(_dispute_words(dispute, currency))
    return said


def _dispute_words(dispute: dict[str, Any], currency: str) -> str:
    disputed = f"{amount(dispute['amount'], currency)} disputed on {day(_at(dispute['opened_at']))}"
    if dispute["status"] == "won":
        return f"{disputed}; the dispute was closed in our favour"
    if dispute["status"] == "lost":
        return f"{disputed}; the dispute was closed in your favour"
    return f"{disputed}; the dispute is under review"


def _at(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso) if iso else None
